"""This project's own state: the shared app cache, filtered apps and the user's `keep` overrides.

The tables live in the `steam_import` schema on PostgreSQL (created here when missing; the app's
Prisma migrations never manage it) and in the database file on SQLite, which has no schemas.

Revision ID: 0004_app_cache_and_filtered
Revises: 0003_steam_import_additions
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lambdas.database.own_state import OWN_SCHEMA

revision = "0004_app_cache_and_filtered"
down_revision: str | None = "0003_steam_import_additions"
branch_labels: str | None = None
depends_on: str | None = None


def _schema() -> str | None:
    return OWN_SCHEMA if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    schema = _schema()
    if schema is not None:
        op.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    op.create_table(
        "app_cache",
        sa.Column("app_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("store_checked_at", sa.DateTime()),
        sa.Column("store_known", sa.Boolean()),
        sa.Column("store_type", sa.Integer()),
        sa.Column("store_parent_appid", sa.BigInteger()),
        sa.Column("igdb_checked_at", sa.DateTime()),
        sa.Column("igdb_games", sa.Text()),
        sa.Column("igdb_title_name", sa.Text()),
        sa.Column("igdb_title_games", sa.Text()),
        schema=schema,
    )
    op.create_table(
        "filtered_app",
        sa.Column("user_id", sa.Text(), primary_key=True),
        sa.Column("app_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("steam_type", sa.Integer()),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        schema=schema,
    )
    op.create_table(
        "app_override",
        sa.Column("user_id", sa.Text(), primary_key=True),
        sa.Column("app_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        schema=schema,
    )


def downgrade() -> None:
    schema = _schema()
    for name in ("app_override", "filtered_app", "app_cache"):
        op.drop_table(name, schema=schema)
