"""This project's additions: platform playtimes, lastPlayedAt, one row per Steam app and user.

Each addition is skipped when the database already has it, so an app database that gained some of
them through its own migrations upgrades cleanly.

Revision ID: 0003_steam_import_additions
Revises: 0002_igdb_match_status
Create Date: 2025-01-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_steam_import_additions"
down_revision: str | None = "0002_igdb_match_status"
branch_labels: str | None = None
depends_on: str | None = None

PLAYTIMES = ("playtimeWindows", "playtimeMac", "playtimeLinux")
UNIQUE_INDEX = "ImportedGame_userId_storefront_storefrontGameId_key"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    columns = {column["name"] for column in inspector.get_columns("ImportedGame")}
    indexes = {index["name"] for index in inspector.get_indexes("ImportedGame")}
    for name in PLAYTIMES:
        if name not in columns:
            op.add_column(
                "ImportedGame", sa.Column(name, sa.Integer(), server_default=sa.text("0"))
            )
    if "lastPlayedAt" not in columns:
        timestamp = sa.DateTime().with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")
        op.add_column("ImportedGame", sa.Column("lastPlayedAt", timestamp))
    if UNIQUE_INDEX not in indexes:
        op.create_index(
            UNIQUE_INDEX,
            "ImportedGame",
            ["userId", "storefront", "storefrontGameId"],
            unique=True,
        )


def downgrade() -> None:
    op.drop_index(UNIQUE_INDEX, table_name="ImportedGame")
    with op.batch_alter_table("ImportedGame") as batch:
        for name in (*PLAYTIMES, "lastPlayedAt"):
            batch.drop_column(name)
