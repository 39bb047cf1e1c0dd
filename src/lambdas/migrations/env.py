"""Alembic environment: runs revisions on the connection `lambdas.database.schema` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from lambdas.models.db import metadata
from lambdas.state.schema import OWN_SCHEMA


def _move_legacy_version_table(connection: Connection) -> None:
    """Standalone databases made before the version table moved keep it in `public`: move it,
    so their recorded revision is kept instead of every migration running again."""
    inspector = inspect(connection)
    if inspector.has_table("alembic_version") and not inspector.has_table(
        "alembic_version", OWN_SCHEMA
    ):
        connection.execute(text(f'ALTER TABLE public.alembic_version SET SCHEMA "{OWN_SCHEMA}"'))


def run_migrations() -> None:
    """Run the pending revisions inside the caller's transaction (online mode only)."""
    connection = context.config.attributes.get("connection")
    if context.is_offline_mode() or not isinstance(connection, Connection):
        raise RuntimeError(
            "run migrations through lambdas.database.schema.upgrade (steam-import db upgrade), "
            "which passes an open connection"
        )
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # Alembic's version table is this project's own state, kept out of the app's schema.
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{OWN_SCHEMA}"'))
        _move_legacy_version_table(connection)
    context.configure(
        connection=connection,
        version_table_schema=OWN_SCHEMA if postgres else None,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic installs `context.config` only while it executes this file; importing it elsewhere
# (documentation tools, import sweeps) must not run anything.
if hasattr(context, "config"):
    run_migrations()
