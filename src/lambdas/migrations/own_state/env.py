"""Alembic environment of own state: runs revisions on the connection `lambdas.state.migrate`
hands over, with the version table in `steam_import` (in the file on SQLite)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from lambdas.state.schema import (
    OWN_SCHEMA,
    VERSION_TABLE,
    own_schema,
    own_state_metadata,
    own_tables,
)


def _ours(name: str | None, kind: str, _parent: object) -> bool:
    """Autogenerate compares this schema alone, never the app's `public`."""
    return kind != "schema" or name == OWN_SCHEMA


def run_migrations() -> None:
    """Run the pending revisions inside the caller's transaction (online mode only)."""
    connection = context.config.attributes.get("connection")
    if context.is_offline_mode() or not isinstance(connection, Connection):
        raise RuntimeError(
            "run own-state migrations through lambdas.state.migrate.upgrade_own_state "
            "(steam-import db own-state), which passes an open connection"
        )
    if connection.dialect.name == "postgresql":
        # The only schema this chain may create or change on the app's database.
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{OWN_SCHEMA}"'))
    own_tables()  # every table declared on the metadata, for autogenerate
    context.configure(
        connection=connection,
        version_table=VERSION_TABLE,
        version_table_schema=own_schema(connection),
        target_metadata=own_state_metadata,
        include_schemas=True,
        include_name=_ours,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic installs `context.config` only while it executes this file; importing it elsewhere
# (documentation tools, import sweeps) must not run anything.
if hasattr(context, "config"):
    run_migrations()
