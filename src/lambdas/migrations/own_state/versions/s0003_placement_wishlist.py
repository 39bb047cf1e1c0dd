"""Own state: which (user, app) pairs were placed in the library, and the user's wishlist.

`library_placement` makes an import add a library item for a game once (a removed item stays
removed); `wishlist_app` is the user's Steam wishlist as the latest import saw it, each app with
stage 3's decision. On PostgreSQL both are in `steam_import`; on SQLite, in the database file.

Revision ID: s0003_placement_wishlist
Revises: s0002_app_cache_store_details
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from lambdas.state.schema import own_schema

revision = "s0003_placement_wishlist"
down_revision: str | None = "s0002_app_cache_store_details"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    bind = op.get_bind()
    schema = own_schema(bind)
    inspector = sa.inspect(bind)
    for name, columns in _tables():
        if not inspector.has_table(name, schema=schema):  # adopted when made before
            op.create_table(name, *columns, schema=schema)


def _tables() -> list[tuple[str, list[sa.Column[Any]]]]:
    return [
        (
            "library_placement",
            [
                sa.Column("user_id", sa.Text(), primary_key=True),
                sa.Column("app_id", sa.BigInteger(), primary_key=True, autoincrement=False),
                sa.Column("source", sa.Text(), nullable=False),
                sa.Column("library_item_id", sa.Integer()),
                sa.Column("item_status", sa.Text()),
                sa.Column("item_updated_at", sa.DateTime()),
                sa.Column("placed_at", sa.DateTime(), nullable=False),
            ],
        ),
        (
            "wishlist_app",
            [
                sa.Column("user_id", sa.Text(), primary_key=True),
                sa.Column("app_id", sa.BigInteger(), primary_key=True, autoincrement=False),
                sa.Column("name", sa.Text(), nullable=False),
                sa.Column("priority", sa.Integer(), nullable=False),
                sa.Column("date_added", sa.DateTime()),
                sa.Column("decision", sa.Text(), nullable=False),
                sa.Column("igdb_id", sa.Integer()),
                sa.Column("recorded_at", sa.DateTime(), nullable=False),
            ],
        ),
    ]


def downgrade() -> None:
    schema = own_schema(op.get_bind())
    for name in ("wishlist_app", "library_placement"):
        op.drop_table(name, schema=schema)
