"""The shared app cache keeps the store item's own data beside its type (`store_details`): the
tags, categories, parent app and price stage 2 weighs when the store says game and IGDB is
silent. Rows written before it have none and are asked again once (read as not fresh).

Revision ID: 0005_app_cache_store_details
Revises: 0004_app_cache_and_filtered
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lambdas.database.own_state import OWN_SCHEMA

revision = "0005_app_cache_store_details"
down_revision: str | None = "0004_app_cache_and_filtered"
branch_labels: str | None = None
depends_on: str | None = None


def _schema() -> str | None:
    return OWN_SCHEMA if op.get_bind().dialect.name == "postgresql" else None


def upgrade() -> None:
    op.add_column("app_cache", sa.Column("store_details", sa.Text()), schema=_schema())


def downgrade() -> None:
    with op.batch_alter_table("app_cache", schema=_schema()) as batch:
        batch.drop_column("store_details")
