"""Formerly this project's own state in the standalone chain; now nothing.

Own state (the shared app cache, filtered apps and `keep` overrides) has its own chain,
`lambdas/migrations/own_state`, which runs on every database, the app's included. Databases
stamped 0004 keep their tables: the own-state chain's first revision adopts them. This revision
stays so the revision they recorded is still known, and creates nothing.

Revision ID: 0004_app_cache_and_filtered
Revises: 0003_steam_import_additions
Create Date: 2026-12-02
"""

from __future__ import annotations

revision = "0004_app_cache_and_filtered"
down_revision: str | None = "0003_steam_import_additions"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Nothing: `s0001_own_state` creates or adopts these tables."""


def downgrade() -> None:
    """Nothing: the own-state chain owns these tables."""
