"""This project's own state, apart from the app's tables.

On PostgreSQL it lives in its own schema, `steam_import`, which the app's Prisma migrations do not
manage; on SQLite (no schemas) the same tables sit in the database file, because every engine from
`create_engine` maps the schema name away there.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import MetaData, Table, inspect
from sqlalchemy.engine import Connection

#: The PostgreSQL schema that holds this project's own tables.
OWN_SCHEMA = "steam_import"

#: Every table of this project's own state is declared on this metadata.
own_state_metadata = MetaData(schema=OWN_SCHEMA)


def own_tables_exist(connection: Connection, tables: Iterable[Table]) -> bool:
    """Whether each of these own-state tables is in the database (in `steam_import` on
    PostgreSQL, in the file on SQLite): `db upgrade` or `db own-state` makes them."""
    schema = OWN_SCHEMA if connection.dialect.name == "postgresql" else None
    inspector = inspect(connection)
    return all(inspector.has_table(table.name, schema=schema) for table in tables)
