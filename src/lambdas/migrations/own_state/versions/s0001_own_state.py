"""Own state, versioned: the shared app cache, filtered apps and the user's `keep` overrides.

Creates each table that is not there yet and adopts the ones that are, rows and all: the app's
databases whose own state `db own-state` made before it was versioned (with `create_all`), and
standalone databases whose revision 0004 made them. On PostgreSQL everything is in
`steam_import` (created when missing); on SQLite, in the database file.

Revision ID: s0001_own_state
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from lambdas.state.schema import own_schema

revision = "s0001_own_state"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _tables(schema: str | None) -> list[tuple[str, list[sa.Column[Any]]]]:
    return [
        (
            "app_cache",
            [
                sa.Column("app_id", sa.BigInteger(), primary_key=True, autoincrement=False),
                sa.Column("store_checked_at", sa.DateTime()),
                sa.Column("store_known", sa.Boolean()),
                sa.Column("store_type", sa.Integer()),
                sa.Column("store_parent_appid", sa.BigInteger()),
                sa.Column("igdb_checked_at", sa.DateTime()),
                sa.Column("igdb_games", sa.Text()),
                sa.Column("igdb_title_name", sa.Text()),
                sa.Column("igdb_title_games", sa.Text()),
            ],
        ),
        (
            "filtered_app",
            [
                sa.Column("user_id", sa.Text(), primary_key=True),
                sa.Column("app_id", sa.BigInteger(), primary_key=True, autoincrement=False),
                sa.Column("name", sa.Text(), nullable=False),
                sa.Column("kind", sa.Text(), nullable=False),
                sa.Column("reason", sa.Text(), nullable=False),
                sa.Column("steam_type", sa.Integer()),
                sa.Column("raw", sa.Text(), nullable=False),
                sa.Column("recorded_at", sa.DateTime(), nullable=False),
            ],
        ),
        (
            "app_override",
            [
                sa.Column("user_id", sa.Text(), primary_key=True),
                sa.Column("app_id", sa.BigInteger(), primary_key=True, autoincrement=False),
                sa.Column("decision", sa.Text(), nullable=False),
                sa.Column("created_at", sa.DateTime(), nullable=False),
            ],
        ),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    schema = own_schema(bind)
    inspector = sa.inspect(bind)
    for name, columns in _tables(schema):
        if not inspector.has_table(name, schema=schema):
            op.create_table(name, *columns, schema=schema)


def downgrade() -> None:
    schema = own_schema(op.get_bind())
    for name in ("app_override", "filtered_app", "app_cache"):
        op.drop_table(name, schema=schema)
