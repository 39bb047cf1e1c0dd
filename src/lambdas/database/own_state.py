"""This project's own state, apart from the app's tables.

On PostgreSQL it lives in its own schema, `steam_import`, which the app's Prisma migrations do not
manage; on SQLite (no schemas) the same tables sit in the database file, because every engine from
`create_engine` maps the schema name away there.
"""

from __future__ import annotations

from sqlalchemy import MetaData

#: The PostgreSQL schema that holds this project's own tables.
OWN_SCHEMA = "steam_import"

#: Every table of this project's own state is declared on this metadata.
own_state_metadata = MetaData(schema=OWN_SCHEMA)
