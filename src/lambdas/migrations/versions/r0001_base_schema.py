"""The app's schema as its own Prisma migrations leave it before the Steam import existed.

Revision ID: 0001_base_schema
Revises:
Create Date: 2024-06-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_base_schema"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

ENUMS: dict[str, tuple[str, ...]] = {
    "Storefront": ("STEAM", "PLAYSTATION", "XBOX"),
    "LibraryItemStatus": (
        "CURIOUS_ABOUT",
        "CURRENTLY_EXPLORING",
        "TOOK_A_BREAK",
        "EXPERIENCED",
        "WISHLIST",
        "REVISITING",
    ),
    "AcquisitionType": ("PHYSICAL", "DIGITAL", "SUBSCRIPTION"),
}


def _timestamp() -> sa.types.TypeEngine[Any]:
    return sa.DateTime().with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")


def _enum(name: str) -> sa.types.TypeEngine[Any]:
    values = ENUMS[name]
    return sa.Enum(*values, name=name, create_constraint=False).with_variant(
        postgresql.ENUM(*values, name=name, create_type=False), "postgresql"
    )


def _created() -> sa.Column[Any]:
    now = sa.text("CURRENT_TIMESTAMP")
    return sa.Column("createdAt", _timestamp(), nullable=False, server_default=now)


def _updated() -> sa.Column[Any]:
    return sa.Column("updatedAt", _timestamp(), nullable=False)


def _fk(column: str, table: str, target: str, *, cascade: bool = False) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=f"{table}_{column}_fkey",
        ondelete="CASCADE" if cascade else "RESTRICT",
        onupdate="CASCADE",
    )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name, values in ENUMS.items():
            postgresql.ENUM(*values, name=name).create(bind, checkfirst=True)
    text, integer = sa.Text(), sa.Integer()
    op.create_table(
        "User",
        sa.Column("id", text, nullable=False),
        sa.Column("name", text),
        sa.Column("email", text),
        sa.Column("steamId64", text),
        sa.Column("steamProfileURL", text),
        sa.Column("steamUsername", text),
        sa.Column("steamAvatar", text),
        sa.Column("steamConnectedAt", _timestamp()),
        _created(),
        _updated(),
        sa.PrimaryKeyConstraint("id", name="User_pkey"),
    )
    op.create_index("User_email_key", "User", ["email"], unique=True)
    op.create_table(
        "ImportedGame",
        sa.Column("id", text, nullable=False),
        sa.Column("name", text, nullable=False),
        sa.Column("storefront", _enum("Storefront"), nullable=False),
        sa.Column("storefrontGameId", text),
        sa.Column("playtime", integer, server_default=sa.text("0")),
        sa.Column("img_icon_url", text),
        sa.Column("img_logo_url", text),
        _created(),
        _updated(),
        sa.Column("deletedAt", _timestamp()),
        sa.Column("userId", text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="ImportedGame_pkey"),
        _fk("userId", "ImportedGame", "User"),
    )
    op.create_index("ImportedGame_userId_deletedAt_idx", "ImportedGame", ["userId", "deletedAt"])
    op.create_index("ImportedGame_storefrontGameId_idx", "ImportedGame", ["storefrontGameId"])
    op.create_index("ImportedGame_userId_playtime_idx", "ImportedGame", ["userId", "playtime"])
    op.create_table(
        "Game",
        sa.Column("id", text, nullable=False),
        sa.Column("igdbId", integer, nullable=False),
        sa.Column("hltbId", text),
        sa.Column("title", text, nullable=False),
        sa.Column("description", text),
        sa.Column("coverImage", text),
        sa.Column("releaseDate", _timestamp()),
        sa.Column("mainStory", integer),
        sa.Column("mainExtra", integer),
        sa.Column("completionist", integer),
        _created(),
        _updated(),
        sa.Column("steamAppId", integer),
        sa.Column("slug", text, nullable=False),
        sa.Column("franchiseId", integer),
        sa.PrimaryKeyConstraint("id", name="Game_pkey"),
    )
    op.create_index("Game_igdbId_key", "Game", ["igdbId"], unique=True)
    op.create_index("Game_hltbId_key", "Game", ["hltbId"], unique=True)
    op.create_index("Game_slug_key", "Game", ["slug"], unique=True)
    op.create_index("Game_slug_idx", "Game", ["slug"])
    op.create_table(
        "LibraryItem",
        sa.Column("id", integer, nullable=False, autoincrement=True),
        sa.Column(
            "status",
            _enum("LibraryItemStatus"),
            nullable=False,
            server_default=sa.text("'CURIOUS_ABOUT'"),
        ),
        _created(),
        _updated(),
        sa.Column("platform", text),
        sa.Column("userId", text, nullable=False),
        sa.Column(
            "acquisitionType",
            _enum("AcquisitionType"),
            nullable=False,
            server_default=sa.text("'DIGITAL'"),
        ),
        sa.Column("gameId", text, nullable=False),
        sa.Column("startedAt", _timestamp()),
        sa.Column("completedAt", _timestamp()),
        sa.PrimaryKeyConstraint("id", name="LibraryItem_pkey"),
        _fk("userId", "LibraryItem", "User"),
        _fk("gameId", "LibraryItem", "Game", cascade=True),
    )
    op.create_index("LibraryItem_userId_status_idx", "LibraryItem", ["userId", "status"])
    op.create_index("LibraryItem_userId_platform_idx", "LibraryItem", ["userId", "platform"])
    op.create_index("LibraryItem_userId_createdAt_idx", "LibraryItem", ["userId", "createdAt"])
    op.create_index("LibraryItem_gameId_idx", "LibraryItem", ["gameId"])
    op.create_table(
        "Genre",
        sa.Column("id", text, nullable=False),
        sa.Column("igdbId", integer, nullable=False),
        sa.Column("name", text, nullable=False),
        sa.Column("slug", text, nullable=False),
        sa.Column("checksum", text),
        _created(),
        _updated(),
        sa.PrimaryKeyConstraint("id", name="Genre_pkey"),
    )
    for column in ("igdbId", "name", "slug"):
        op.create_index(f"Genre_{column}_key", "Genre", [column], unique=True)
    op.create_table(
        "Platform",
        sa.Column("id", text, nullable=False),
        sa.Column("igdbId", integer, nullable=False),
        sa.Column("name", text, nullable=False),
        sa.Column("slug", text, nullable=False),
        sa.Column("abbreviation", text),
        sa.Column("alternativeName", text),
        sa.Column("generation", integer),
        sa.Column("platformFamily", integer),
        sa.Column("platformType", integer),
        sa.Column("checksum", text),
        _created(),
        _updated(),
        sa.PrimaryKeyConstraint("id", name="Platform_pkey"),
    )
    for column in ("igdbId", "name", "slug"):
        op.create_index(f"Platform_{column}_key", "Platform", [column], unique=True)
    for table, other, other_column in (
        ("GameGenre", "Genre", "genreId"),
        ("GamePlatform", "Platform", "platformId"),
    ):
        op.create_table(
            table,
            sa.Column("gameId", text, nullable=False),
            sa.Column(other_column, text, nullable=False),
            sa.PrimaryKeyConstraint("gameId", other_column, name=f"{table}_pkey"),
            _fk("gameId", table, "Game", cascade=True),
            _fk(other_column, table, other, cascade=True),
        )


def downgrade() -> None:
    for table in (
        "GamePlatform",
        "GameGenre",
        "Platform",
        "Genre",
        "LibraryItem",
        "Game",
        "ImportedGame",
        "User",
    ):
        op.drop_table(table)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name in ENUMS:
            postgresql.ENUM(name=name).drop(bind, checkfirst=True)
