-- Optional, offered to the app's maintainers; steam-import never applies it and works without it.
-- One live ImportedGame row per (user, storefront, storefront game id): a partial unique index,
-- so soft-deleted rows (deletedAt set) do not block a later import. Prisma cannot express a
-- partial index in schema.prisma; keep it in a migration (create it CONCURRENTLY on a busy table).
CREATE UNIQUE INDEX "ImportedGame_userId_storefront_storefrontGameId_live_key"
    ON "ImportedGame" ("userId", "storefront", "storefrontGameId")
    WHERE "deletedAt" IS NULL;
