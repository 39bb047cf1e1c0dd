"""Alembic upgrades of own state: the `lambdas/migrations/own_state` chain, on any database.

Needs the `migrations` extra (Alembic) and the packaged revisions, so only `steam-import db …`
and the local pipeline import it; the Lambda functions never do (they read the revision with
`lambdas.state.schema.own_state_revision`, plain SQL).
"""

from __future__ import annotations

from importlib.resources import files

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from lambdas.state.schema import OWN_SCHEMA, VERSION_TABLE, own_schema

log = structlog.get_logger()


def own_state_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at the packaged own-state scripts, from any folder."""
    config = Config()
    config.set_main_option("script_location", str(files("lambdas") / "migrations" / "own_state"))
    config.attributes["connection"] = connection
    return config


def own_state_head() -> str:
    """The newest own-state revision the packaged scripts define."""
    head = ScriptDirectory.from_config(own_state_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no own-state revisions are packaged")
    return head


def current_own_revision(connection: Connection) -> str | None:
    """The own-state revision Alembic recorded, or None when the chain never ran here."""
    opts = {"version_table": VERSION_TABLE, "version_table_schema": own_schema(connection)}
    return MigrationContext.configure(connection, opts=opts).get_current_revision()


def upgrade_own_state(connection: Connection, *, revision: str = "head") -> str:
    """Create, adopt or upgrade own state in the caller's transaction; the revision reached.

    Only the `steam_import` schema (the file on SQLite) is touched: never the app's tables.
    Tables made before own state was versioned are adopted with their rows by the first revision.
    """
    before = current_own_revision(connection)
    command.upgrade(own_state_config(connection), revision)
    reached = current_own_revision(connection) or ""
    if reached != before:
        log.info("db.own_state_upgraded", schema=OWN_SCHEMA, revision=reached, previous=before)
    return reached
