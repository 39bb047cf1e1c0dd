"""The app's migration that added the IgdbMatchStatus enum and ImportedGame.igdbMatchStatus.

Revision ID: 0002_igdb_match_status
Revises: 0001_base_schema
Create Date: 2024-09-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_igdb_match_status"
down_revision: str | None = "0001_base_schema"
branch_labels: str | None = None
depends_on: str | None = None

VALUES = ("PENDING", "MATCHED", "UNMATCHED", "IGNORED")


def upgrade() -> None:
    bind = op.get_bind()
    column_type: sa.types.TypeEngine[Any]
    if bind.dialect.name == "postgresql":
        postgresql.ENUM(*VALUES, name="IgdbMatchStatus").create(bind, checkfirst=True)
        column_type = postgresql.ENUM(*VALUES, name="IgdbMatchStatus", create_type=False)
    else:
        column_type = sa.Enum(*VALUES, name="IgdbMatchStatus", create_constraint=False)
    op.add_column(
        "ImportedGame",
        sa.Column(
            "igdbMatchStatus", column_type, nullable=False, server_default=sa.text("'PENDING'")
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("ImportedGame") as batch:
        batch.drop_column("igdbMatchStatus")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        postgresql.ENUM(name="IgdbMatchStatus").drop(bind, checkfirst=True)
