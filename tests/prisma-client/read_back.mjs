// Read every row of every model through a generated Prisma 7 client (prisma-client generator,
// @prisma/adapter-pg), as the app does; print {Model: [row, ...]} as JSON (DateTime as ISO UTC).
// Usage: node readback.mjs <folder of the generated client> (DATABASE_URL in the environment)
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { PrismaPg } from "@prisma/adapter-pg";

const [clientDir] = process.argv.slice(2);

// The generator writes TypeScript with ".ts" imports; Node 20 runs JavaScript: transpile each
// file beside itself, as the app's bundler would.
function transpile(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) transpile(path);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) {
      const { outputText } = ts.transpileModule(readFileSync(path, "utf8"), {
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          rewriteRelativeImportExtensions: true,
        },
      });
      writeFileSync(path.replace(/\.ts$/, ".js"), outputText);
    }
  }
}

transpile(clientDir);
const { PrismaClient, Prisma } = await import(pathToFileURL(join(clientDir, "client.js")).href);
const prisma = new PrismaClient({
  adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }),
});
try {
  const out = {};
  for (const model of Object.values(Prisma.ModelName)) {
    const delegate = prisma[model[0].toLowerCase() + model.slice(1)];
    out[model] = await delegate.findMany();
  }
  process.stdout.write(JSON.stringify(out));
} finally {
  await prisma.$disconnect();
}
