"""The `steam_import` schema: its metadata, whether its tables exist, and its revision.

On PostgreSQL the tables live in their own schema, `steam_import`, which the app's Prisma
migrations do not manage; on SQLite (no schemas) the same tables sit in the database file,
because every engine from `lambdas.sql.engine.create_engine` maps the schema name away there.

The revision is read with one plain SELECT, so checking it needs no Alembic (which the Lambda zip
does not ship); `lambdas.state.migrate` moves it forward.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Column, MetaData, String, Table, inspect, select
from sqlalchemy.engine import Connection

from lambdas.errors import OwnStateMissingError
from lambdas.sql.engine import OWN_SCHEMA

__all__ = [
    "FIX",
    "OWN_SCHEMA",
    "OWN_STATE_HEAD",
    "VERSION_TABLE",
    "own_schema",
    "own_state_metadata",
    "own_state_revision",
    "own_tables",
    "own_tables_exist",
    "require_own_state",
]

#: Every table of this project's own state is declared on this metadata.
own_state_metadata = MetaData(schema=OWN_SCHEMA)

#: The own-state migration chain's version table (in `steam_import`; in the file on SQLite). Not
#: `alembic_version`: that name is the standalone schema's chain, and marks a standalone database.
VERSION_TABLE = "own_state_version"

#: The newest revision in lambdas/migrations/own_state/versions; a test keeps the two equal.
OWN_STATE_HEAD = "s0002_app_cache_store_details"

#: The one command that creates or upgrades own state, wherever it lives.
FIX = "steam-import db own-state"

_version = Table(
    VERSION_TABLE, MetaData(schema=OWN_SCHEMA), Column("version_num", String(32), primary_key=True)
)


def own_schema(connection: Connection) -> str | None:
    """Where own-state tables are on this connection: `steam_import` on PostgreSQL, none on
    SQLite (for reflection and Alembic, which do not apply the engine's schema mapping)."""
    return OWN_SCHEMA if connection.dialect.name == "postgresql" else None


def own_tables() -> list[Table]:
    """Every own-state table, with each module that declares one imported."""
    from lambdas.state import app_cache, filtered  # noqa: F401 - declare the tables

    return list(own_state_metadata.sorted_tables)


def own_tables_exist(connection: Connection, tables: Iterable[Table]) -> bool:
    """Whether each of these own-state tables is in the database (in `steam_import` on
    PostgreSQL, in the file on SQLite): `db upgrade` or `db own-state` makes them."""
    schema = own_schema(connection)
    inspector = inspect(connection)
    return all(inspector.has_table(table.name, schema=schema) for table in tables)


def own_state_revision(connection: Connection) -> str | None:
    """The own-state revision recorded in the database; None when its chain never ran there
    (no own state at all, or tables made before own state was versioned)."""
    if not inspect(connection).has_table(VERSION_TABLE, schema=own_schema(connection)):
        return None
    return connection.execute(select(_version.c.version_num)).scalar()


def require_own_state(connection: Connection) -> None:
    """Own state at this version's revision, or OWN_STATE_MISSING naming the command that fixes
    it: for the commands that cannot work without it (`filtered`, `keep`)."""
    revision = own_state_revision(connection)
    if revision == OWN_STATE_HEAD:
        return
    if revision is not None:
        found = f"is at revision {revision}, this version needs {OWN_STATE_HEAD}"
    elif own_tables_exist(connection, own_tables()):
        found = "was made before it was versioned"
    else:
        found = "is missing"
    raise OwnStateMissingError(
        f'this project\'s own state (schema "{OWN_SCHEMA}": the filtered-app list, keep '
        f"overrides and the shared app cache) {found}; run `{FIX}`, which creates or upgrades it "
        "without touching the app's tables"
    )
