"""SQLAlchemy tables of the standalone schema (the app's 2025 tables), named and typed as Prisma
makes them."""

# Prisma's PostgreSQL conventions, mirrored here and stated again in `prisma/schema.prisma` (a
# test proves the two agree): quoted identifiers equal to the model and field names (attributes
# keep those names too); String → TEXT, Int → INTEGER, DateTime → TIMESTAMP(3) WITHOUT TIME ZONE;
# enums are native types named like the Prisma enum; `@id @default(cuid())` and `@updatedAt` have
# no database default (the writer supplies both); unique fields are unique *indexes*
# "Model_field_key", plain indexes "Model_a_b_idx", foreign keys "Model_field_fkey" with ON DELETE
# RESTRICT ON UPDATE CASCADE unless the relation says otherwise. On SQLite the same tables use
# DATETIME, and VARCHAR for enums.

from __future__ import annotations

from datetime import datetime
from enum import Enum as PyEnum
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Text,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from lambdas.models.app_enums import (
    AcquisitionType,
    IgdbMatchStatus,
    LibraryItemStatus,
    Storefront,
)

__all__ = [
    "AcquisitionType",
    "Base",
    "Game",
    "GameGenre",
    "GamePlatform",
    "Genre",
    "IgdbMatchStatus",
    "ImportedGame",
    "LibraryItem",
    "LibraryItemStatus",
    "Platform",
    "Storefront",
    "User",
    "metadata",
]


class _OpenValues:
    """Reads a value the model does not list as the plain string instead of failing."""

    def _object_value_for_elem(self, elem: str) -> str | PyEnum:
        try:
            return super()._object_value_for_elem(elem)  # type: ignore[misc, no-any-return]
        except LookupError:
            return elem


class _OpenEnum(_OpenValues, Enum):
    cache_ok = True


class _OpenPostgresEnum(_OpenValues, postgresql.ENUM):
    cache_ok = True


def _enum(python_enum: type[StrEnum], *, open_values: bool = False) -> Enum:
    """A native PostgreSQL enum named like the Prisma enum; VARCHAR without CHECK on SQLite.

    `validate_strings=False` lets the writer store a value the live enum has but this model does
    not list; `open_values` also reads such values back as strings. The app owns and renames the
    LibraryItem statuses, so that enum is open.
    """
    options: dict[str, Any] = {
        "name": python_enum.__name__,
        "values_callable": lambda members: [member.value for member in members],
        "create_constraint": False,
        "validate_strings": False,
    }
    if not open_values:
        return Enum(python_enum, native_enum=True, **options)
    postgres = _OpenPostgresEnum(python_enum, create_type=True, **options)
    return _OpenEnum(python_enum, native_enum=True, **options).with_variant(postgres, "postgresql")


#: Prisma's DateTime: TIMESTAMP(3) WITHOUT TIME ZONE on PostgreSQL, DATETIME on SQLite.
TIMESTAMP3: TypeEngine[datetime] = DateTime(timezone=False).with_variant(
    postgresql.TIMESTAMP(precision=3, timezone=False), "postgresql"
)
_NOW = text("CURRENT_TIMESTAMP")
_ZERO = text("0")

#: Prisma's constraint names; index names are spelled out on each table for grep-ability.
metadata = MetaData(
    naming_convention={
        "pk": "%(table_name)s_pkey",
        "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    }
)


class Base(DeclarativeBase):
    metadata = metadata


def _fk(target: str, *, cascade: bool = False) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE" if cascade else "RESTRICT", onupdate="CASCADE")


class User(Base):
    __tablename__ = "User"
    __table_args__ = (Index("User_email_key", "email", unique=True),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    steamId64: Mapped[str | None] = mapped_column(Text)
    steamProfileURL: Mapped[str | None] = mapped_column(Text)
    steamUsername: Mapped[str | None] = mapped_column(Text)
    steamAvatar: Mapped[str | None] = mapped_column(Text)
    steamConnectedAt: Mapped[datetime | None] = mapped_column(TIMESTAMP3)
    createdAt: Mapped[datetime] = mapped_column(TIMESTAMP3, server_default=_NOW)
    updatedAt: Mapped[datetime] = mapped_column(TIMESTAMP3)


class ImportedGame(Base):
    __tablename__ = "ImportedGame"
    __table_args__ = (
        Index("ImportedGame_userId_deletedAt_idx", "userId", "deletedAt"),
        Index("ImportedGame_storefrontGameId_idx", "storefrontGameId"),
        Index("ImportedGame_userId_playtime_idx", "userId", "playtime"),
        Index(
            "ImportedGame_userId_storefront_storefrontGameId_key",
            "userId",
            "storefront",
            "storefrontGameId",
            unique=True,
        ),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    storefront: Mapped[Storefront] = mapped_column(_enum(Storefront))
    storefrontGameId: Mapped[str | None] = mapped_column(Text)
    playtime: Mapped[int | None] = mapped_column(Integer, server_default=_ZERO)
    playtimeWindows: Mapped[int | None] = mapped_column(Integer, server_default=_ZERO)
    playtimeMac: Mapped[int | None] = mapped_column(Integer, server_default=_ZERO)
    playtimeLinux: Mapped[int | None] = mapped_column(Integer, server_default=_ZERO)
    lastPlayedAt: Mapped[datetime | None] = mapped_column(TIMESTAMP3)
    img_icon_url: Mapped[str | None] = mapped_column(Text)
    img_logo_url: Mapped[str | None] = mapped_column(Text)
    igdbMatchStatus: Mapped[IgdbMatchStatus] = mapped_column(
        _enum(IgdbMatchStatus), server_default=text("'PENDING'")
    )
    createdAt: Mapped[datetime] = mapped_column(TIMESTAMP3, server_default=_NOW)
    updatedAt: Mapped[datetime] = mapped_column(TIMESTAMP3)
    deletedAt: Mapped[datetime | None] = mapped_column(TIMESTAMP3)
    userId: Mapped[str] = mapped_column(Text, _fk("User.id"))


class Game(Base):
    __tablename__ = "Game"
    __table_args__ = (
        Index("Game_igdbId_key", "igdbId", unique=True),
        Index("Game_hltbId_key", "hltbId", unique=True),
        Index("Game_slug_key", "slug", unique=True),
        Index("Game_slug_idx", "slug"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    igdbId: Mapped[int] = mapped_column(Integer)
    hltbId: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    coverImage: Mapped[str | None] = mapped_column(Text)
    releaseDate: Mapped[datetime | None] = mapped_column(TIMESTAMP3)
    mainStory: Mapped[int | None] = mapped_column(Integer)
    mainExtra: Mapped[int | None] = mapped_column(Integer)
    completionist: Mapped[int | None] = mapped_column(Integer)
    createdAt: Mapped[datetime] = mapped_column(TIMESTAMP3, server_default=_NOW)
    updatedAt: Mapped[datetime] = mapped_column(TIMESTAMP3)
    steamAppId: Mapped[int | None] = mapped_column(Integer)
    slug: Mapped[str] = mapped_column(Text)
    franchiseId: Mapped[int | None] = mapped_column(Integer)


class LibraryItem(Base):
    __tablename__ = "LibraryItem"
    __table_args__ = (
        Index("LibraryItem_userId_status_idx", "userId", "status"),
        Index("LibraryItem_userId_platform_idx", "userId", "platform"),
        Index("LibraryItem_userId_createdAt_idx", "userId", "createdAt"),
        Index("LibraryItem_gameId_idx", "gameId"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[LibraryItemStatus] = mapped_column(
        _enum(LibraryItemStatus, open_values=True), server_default=text("'CURIOUS_ABOUT'")
    )
    createdAt: Mapped[datetime] = mapped_column(TIMESTAMP3, server_default=_NOW)
    updatedAt: Mapped[datetime] = mapped_column(TIMESTAMP3)
    platform: Mapped[str | None] = mapped_column(Text)
    userId: Mapped[str] = mapped_column(Text, _fk("User.id"))
    acquisitionType: Mapped[AcquisitionType] = mapped_column(
        _enum(AcquisitionType), server_default=text("'DIGITAL'")
    )
    gameId: Mapped[str] = mapped_column(Text, _fk("Game.id", cascade=True))
    startedAt: Mapped[datetime | None] = mapped_column(TIMESTAMP3)
    completedAt: Mapped[datetime | None] = mapped_column(TIMESTAMP3)


class Genre(Base):
    __tablename__ = "Genre"
    __table_args__ = (
        Index("Genre_igdbId_key", "igdbId", unique=True),
        Index("Genre_name_key", "name", unique=True),
        Index("Genre_slug_key", "slug", unique=True),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    igdbId: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    slug: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str | None] = mapped_column(Text)
    createdAt: Mapped[datetime] = mapped_column(TIMESTAMP3, server_default=_NOW)
    updatedAt: Mapped[datetime] = mapped_column(TIMESTAMP3)


class Platform(Base):
    __tablename__ = "Platform"
    __table_args__ = (
        Index("Platform_igdbId_key", "igdbId", unique=True),
        Index("Platform_name_key", "name", unique=True),
        Index("Platform_slug_key", "slug", unique=True),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    igdbId: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    slug: Mapped[str] = mapped_column(Text)
    abbreviation: Mapped[str | None] = mapped_column(Text)
    alternativeName: Mapped[str | None] = mapped_column(Text)
    generation: Mapped[int | None] = mapped_column(Integer)
    platformFamily: Mapped[int | None] = mapped_column(Integer)
    platformType: Mapped[int | None] = mapped_column(Integer)
    checksum: Mapped[str | None] = mapped_column(Text)
    createdAt: Mapped[datetime] = mapped_column(TIMESTAMP3, server_default=_NOW)
    updatedAt: Mapped[datetime] = mapped_column(TIMESTAMP3)


class GameGenre(Base):
    __tablename__ = "GameGenre"
    __table_args__ = (PrimaryKeyConstraint("gameId", "genreId"),)

    gameId: Mapped[str] = mapped_column(Text, _fk("Game.id", cascade=True))
    genreId: Mapped[str] = mapped_column(Text, _fk("Genre.id", cascade=True))


class GamePlatform(Base):
    __tablename__ = "GamePlatform"
    __table_args__ = (PrimaryKeyConstraint("gameId", "platformId"),)

    gameId: Mapped[str] = mapped_column(Text, _fk("Game.id", cascade=True))
    platformId: Mapped[str] = mapped_column(Text, _fk("Platform.id", cascade=True))
