"""The app's tables as SQLAlchemy Core `Table`s, one set per schema profile.

Only the columns stage 3 reads or writes are declared, so a profile's tables are exactly what the
loader needs from that schema; the ORM models in `lambdas.models.db` describe the standalone
schema for Alembic and are never imported on the stage-3 path (they cost ~0.3 s of cold start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

from lambdas.database.profiles import PROFILES, Profile, ProfileName

#: Prisma's DateTime: TIMESTAMP(3) WITHOUT TIME ZONE on PostgreSQL, DATETIME on SQLite.
TIMESTAMP3: TypeEngine[datetime] = DateTime(timezone=False).with_variant(
    postgresql.TIMESTAMP(precision=3, timezone=False), "postgresql"
)


def enum_type(name: str) -> TypeEngine[Any]:
    """The app's PostgreSQL enum `name` (labels are the live database's), text on SQLite."""
    return Text().with_variant(postgresql.ENUM(name=name, create_type=False), "postgresql")


@dataclass(frozen=True)
class AppTables:
    """The tables of one profile."""

    profile: Profile
    user: Table
    imported: Table
    game: Table
    genre: Table
    platform: Table
    game_genre: Table
    game_platform: Table
    library: Table
    ignored: Table | None

    def all(self) -> list[Table]:
        found = [
            self.user,
            self.imported,
            self.game,
            self.genre,
            self.platform,
            self.game_genre,
            self.game_platform,
            self.library,
        ]
        return [*found, self.ignored] if self.ignored is not None else found


def _text(name: str, **kwargs: Any) -> Column[Any]:
    return Column(name, Text, **kwargs)


def _int(name: str, **kwargs: Any) -> Column[Any]:
    return Column(name, Integer, **kwargs)


def _time(name: str, **kwargs: Any) -> Column[Any]:
    return Column(name, TIMESTAMP3, **kwargs)


@cache
def tables_for(name: ProfileName) -> AppTables:
    """The Core tables of profile `name` (built once per process)."""
    profile = PROFILES[name]
    metadata = MetaData()
    optional = {
        "lastPlayedAt": lambda: _time("lastPlayedAt"),
        "playtimeWindows": lambda: _int("playtimeWindows"),
        "playtimeMac": lambda: _int("playtimeMac"),
        "playtimeLinux": lambda: _int("playtimeLinux"),
    }
    user = Table(
        profile.users_table,
        metadata,
        _text("id", primary_key=True),
        _text("name"),
        _text("steamId64"),
        _text("steamProfileURL"),
        _text("steamUsername"),
        _text("steamAvatar"),
        _time("steamConnectedAt"),
        _time("createdAt"),
        _time("updatedAt"),
    )
    imported = Table(
        "ImportedGame",
        metadata,
        _text("id", primary_key=True),
        _text("name"),
        Column("storefront", enum_type("Storefront")),
        _text("storefrontGameId"),
        _int("playtime"),
        *(optional[column]() for column in profile.imported_columns),
        _text("img_icon_url"),
        _text("img_logo_url"),
        Column("igdbMatchStatus", enum_type("IgdbMatchStatus")),
        _time("createdAt"),
        _time("updatedAt"),
        _time("deletedAt"),
        _text("userId"),
    )
    game = Table(
        "Game",
        metadata,
        _text("id", primary_key=True),
        _int("igdbId"),
        _text("title"),
        _text("description"),
        _text("coverImage"),
        _time("releaseDate"),
        _time("createdAt"),
        _time("updatedAt"),
        _int("steamAppId"),
        _text("slug"),
        _int("franchiseId"),
    )
    catalogue = [_text("id", primary_key=True), _int("igdbId"), _text("name"), _text("slug")]
    genre = Table(
        "Genre",
        metadata,
        *catalogue,
        _text("checksum"),
        _time("createdAt"),
        _time("updatedAt"),
    )
    platform = Table(
        "Platform",
        metadata,
        *(column._copy() for column in catalogue),
        _text("abbreviation"),
        _text("alternativeName"),
        _int("generation"),
        _int("platformFamily"),
        _int("platformType"),
        _text("checksum"),
        _time("createdAt"),
        _time("updatedAt"),
    )
    game_genre = Table(
        "GameGenre",
        metadata,
        _text("gameId", primary_key=True),
        _text("genreId", primary_key=True),
    )
    game_platform = Table(
        "GamePlatform",
        metadata,
        _text("gameId", primary_key=True),
        _text("platformId", primary_key=True),
    )
    library = Table(
        "LibraryItem",
        metadata,
        _int("id", primary_key=True),
        Column("status", enum_type("LibraryItemStatus")),
        _time("createdAt"),
        _time("updatedAt"),
        _text("platform"),
        _text("userId"),
        _text("gameId"),
    )
    ignored = (
        Table(
            "IgnoredImportedGames",
            metadata,
            _text("id", primary_key=True),
            _text("name"),
            _text("userId"),
        )
        if profile.ignored_names
        else None
    )
    return AppTables(
        profile=profile,
        user=user,
        imported=imported,
        game=game,
        genre=genre,
        platform=platform,
        game_genre=game_genre,
        game_platform=game_platform,
        library=library,
        ignored=ignored,
    )
