// Print the DMMF of a Prisma schema, using Prisma's own parser (@prisma/prisma-schema-wasm).
// Usage: node prisma_dmmf.mjs <folder holding node_modules> <schema.prisma>
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [parserDir, schemaPath] = process.argv.slice(2);
const require = createRequire(join(parserDir, "package.json"));
const wasm = require("@prisma/prisma-schema-wasm");
const schema = readFileSync(schemaPath, "utf8");
process.stdout.write(wasm.get_dmmf(JSON.stringify({ prismaSchema: schema, noColorErrors: true })));
