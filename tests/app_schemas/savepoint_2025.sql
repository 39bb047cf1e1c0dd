-- The seed-era SavePoint schema (app commit b7cdc409, last migration 20251212061128), import-relevant
-- tables only, as the app's Prisma migrations leave them: no database default for cuid ids or
-- updatedAt, every FK ON UPDATE CASCADE, CHECKs present only in the migrations.
-- Checked (2026-12) against the app's own migrations up to 20251212061128: the same, except that no
-- migration we could read adds "User".password and "User".updatedAt or drops Game.userId; the app's
-- schema.prisma of 2025-10 already has no Game.userId, and today's has the two User columns.
CREATE TYPE "Storefront" AS ENUM ('STEAM', 'PLAYSTATION', 'XBOX');
CREATE TYPE "IgdbMatchStatus" AS ENUM ('PENDING', 'MATCHED', 'UNMATCHED', 'IGNORED');
CREATE TYPE "AcquisitionType" AS ENUM ('PHYSICAL', 'DIGITAL', 'SUBSCRIPTION');
CREATE TYPE "LibraryItemStatus" AS ENUM (
    'CURIOUS_ABOUT', 'CURRENTLY_EXPLORING', 'TOOK_A_BREAK', 'EXPERIENCED', 'WISHLIST', 'REVISITING');

CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "name" TEXT,
    "email" TEXT,
    "emailVerified" TIMESTAMP(3),
    "image" TEXT,
    "username" TEXT,
    "steamProfileURL" TEXT,
    "steamAvatar" TEXT,
    "steamConnectedAt" TIMESTAMP(3),
    "steamId64" TEXT,
    "steamUsername" TEXT,
    "password" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "usernameNormalized" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "profileSetupCompletedAt" TIMESTAMP(3),
    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE UNIQUE INDEX "User_username_key" ON "User"("username");
CREATE UNIQUE INDEX "User_usernameNormalized_key" ON "User"("usernameNormalized");

CREATE TABLE "Game" (
    "id" TEXT NOT NULL,
    "igdbId" INTEGER NOT NULL,
    "hltbId" TEXT,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "coverImage" TEXT,
    "releaseDate" TIMESTAMP(3),
    "mainStory" INTEGER,
    "mainExtra" INTEGER,
    "completionist" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "dropped13" TEXT,
    "dropped14" TEXT,
    "steamAppId" INTEGER,
    "franchiseId" INTEGER,
    "slug" TEXT NOT NULL,
    CONSTRAINT "Game_pkey" PRIMARY KEY ("id")
);
ALTER TABLE "Game" DROP COLUMN "dropped13", DROP COLUMN "dropped14";
CREATE UNIQUE INDEX "Game_igdbId_key" ON "Game"("igdbId");
CREATE UNIQUE INDEX "Game_hltbId_key" ON "Game"("hltbId");
CREATE UNIQUE INDEX "Game_slug_key" ON "Game"("slug");
CREATE INDEX "Game_slug_idx" ON "Game"("slug");

CREATE TABLE "Genre" (
    "id" TEXT NOT NULL,
    "igdbId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "checksum" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Genre_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Genre_igdbId_key" ON "Genre"("igdbId");
CREATE UNIQUE INDEX "Genre_name_key" ON "Genre"("name");
CREATE UNIQUE INDEX "Genre_slug_key" ON "Genre"("slug");
CREATE INDEX "Genre_slug_idx" ON "Genre"("slug");
CREATE INDEX "Genre_name_idx" ON "Genre"("name");

CREATE TABLE "Platform" (
    "id" TEXT NOT NULL,
    "igdbId" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "abbreviation" TEXT,
    "alternativeName" TEXT,
    "generation" INTEGER,
    "platformFamily" INTEGER,
    "platformType" INTEGER,
    "checksum" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Platform_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Platform_igdbId_key" ON "Platform"("igdbId");
CREATE UNIQUE INDEX "Platform_name_key" ON "Platform"("name");
CREATE UNIQUE INDEX "Platform_slug_key" ON "Platform"("slug");
CREATE INDEX "Platform_slug_idx" ON "Platform"("slug");
CREATE INDEX "Platform_name_idx" ON "Platform"("name");

CREATE TABLE "GameGenre" (
    "gameId" TEXT NOT NULL,
    "genreId" TEXT NOT NULL,
    CONSTRAINT "GameGenre_pkey" PRIMARY KEY ("gameId", "genreId")
);
CREATE INDEX "GameGenre_gameId_idx" ON "GameGenre"("gameId");
CREATE INDEX "GameGenre_genreId_idx" ON "GameGenre"("genreId");
ALTER TABLE "GameGenre" ADD CONSTRAINT "GameGenre_gameId_fkey" FOREIGN KEY ("gameId")
    REFERENCES "Game"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "GameGenre" ADD CONSTRAINT "GameGenre_genreId_fkey" FOREIGN KEY ("genreId")
    REFERENCES "Genre"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "GamePlatform" (
    "gameId" TEXT NOT NULL,
    "platformId" TEXT NOT NULL,
    CONSTRAINT "GamePlatform_pkey" PRIMARY KEY ("gameId", "platformId")
);
CREATE INDEX "GamePlatform_gameId_idx" ON "GamePlatform"("gameId");
CREATE INDEX "GamePlatform_platformId_idx" ON "GamePlatform"("platformId");
ALTER TABLE "GamePlatform" ADD CONSTRAINT "GamePlatform_gameId_fkey" FOREIGN KEY ("gameId")
    REFERENCES "Game"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "GamePlatform" ADD CONSTRAINT "GamePlatform_platformId_fkey" FOREIGN KEY ("platformId")
    REFERENCES "Platform"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "LibraryItem" (
    "id" SERIAL NOT NULL,
    "dropped2" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "platform" TEXT,
    "userId" TEXT NOT NULL,
    "acquisitionType" "AcquisitionType" NOT NULL DEFAULT 'DIGITAL',
    "gameId" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3),
    "completedAt" TIMESTAMP(3),
    "status" "LibraryItemStatus" NOT NULL DEFAULT 'CURIOUS_ABOUT',
    CONSTRAINT "LibraryItem_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "completedAt_after_startedAt" CHECK (
        "startedAt" IS NULL OR "completedAt" IS NULL OR "completedAt" >= "startedAt")
);
ALTER TABLE "LibraryItem" DROP COLUMN "dropped2";
CREATE INDEX "LibraryItem_userId_status_idx" ON "LibraryItem"("userId", "status");
CREATE INDEX "LibraryItem_userId_platform_idx" ON "LibraryItem"("userId", "platform");
CREATE INDEX "LibraryItem_userId_createdAt_idx" ON "LibraryItem"("userId", "createdAt");
CREATE INDEX "LibraryItem_gameId_idx" ON "LibraryItem"("gameId");
ALTER TABLE "LibraryItem" ADD CONSTRAINT "LibraryItem_gameId_fkey" FOREIGN KEY ("gameId")
    REFERENCES "Game"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "LibraryItem" ADD CONSTRAINT "LibraryItem_userId_fkey" FOREIGN KEY ("userId")
    REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "ImportedGame" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "storefront" "Storefront" NOT NULL,
    "storefrontGameId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "deletedAt" TIMESTAMP(3),
    "userId" TEXT NOT NULL,
    "img_icon_url" TEXT,
    "img_logo_url" TEXT,
    "playtime" INTEGER DEFAULT 0,
    "igdbMatchStatus" "IgdbMatchStatus" NOT NULL DEFAULT 'PENDING',
    CONSTRAINT "ImportedGame_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "ImportedGame_userId_deletedAt_idx" ON "ImportedGame"("userId", "deletedAt");
CREATE INDEX "ImportedGame_storefrontGameId_idx" ON "ImportedGame"("storefrontGameId");
ALTER TABLE "ImportedGame" ADD CONSTRAINT "ImportedGame_userId_fkey" FOREIGN KEY ("userId")
    REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "IgnoredImportedGames" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    CONSTRAINT "IgnoredImportedGames_pkey" PRIMARY KEY ("id")
);
ALTER TABLE "IgnoredImportedGames" ADD CONSTRAINT "IgnoredImportedGames_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
