"""The shared app cache keeps the store item's own data beside its type (`store_details`): the
tags, categories, parent app and price stage 2 weighs when the store says game and IGDB is
silent. Rows written before it have none and are asked again once (read as not fresh). A table
that already has the column (made from the current models) is left as it is.

Revision ID: s0002_app_cache_store_details
Revises: s0001_own_state
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lambdas.state.schema import own_schema

revision = "s0002_app_cache_store_details"
down_revision: str | None = "s0001_own_state"
branch_labels: str | None = None
depends_on: str | None = None


def _has_column(schema: str | None) -> bool:
    columns = sa.inspect(op.get_bind()).get_columns("app_cache", schema=schema)
    return any(column["name"] == "store_details" for column in columns)


def upgrade() -> None:
    schema = own_schema(op.get_bind())
    if not _has_column(schema):
        op.add_column("app_cache", sa.Column("store_details", sa.Text()), schema=schema)


def downgrade() -> None:
    schema = own_schema(op.get_bind())
    with op.batch_alter_table("app_cache", schema=schema) as batch:
        batch.drop_column("store_details")
