"""Schema entry points: Alembic upgrades from the packaged scripts, and the live-schema check."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from lambdas.database.drift import find_drift
from lambdas.database.engine import create_engine, database_errors
from lambdas.models.db import LibraryItemStatus

log = structlog.get_logger()

DEFAULT_LIBRARY_STATUSES = (
    LibraryItemStatus.CURIOUS_ABOUT.value,
    LibraryItemStatus.EXPERIENCED.value,
)
#: The app's own revision before this project's additions: what an unversioned app database is.
APP_BASE_REVISION = "0001_base_schema"
APP_MATCH_STATUS_REVISION = "0002_igdb_match_status"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at the packaged scripts, independent of the cwd.

    The scripts ship inside the package (`lambdas/migrations`) and the configuration is built
    here in code, so `steam-import db upgrade` works from any folder, from an installed wheel and
    from a Lambda bundle, with no `alembic.ini` to find.
    """
    config = Config()
    config.set_main_option("script_location", str(files("lambdas") / "migrations"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the packaged scripts define."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no migration revisions are packaged")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision recorded in the database, or None when Alembic never ran on it."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(url: str, *, revision: str = "head") -> str:
    """Migrate the database at `url` to `revision` in one transaction; returns the new revision.

    An app database Prisma created (no `alembic_version` table, but the app's tables exist) is
    first stamped with the app revision its shape matches, so only the missing additions run.
    """
    engine = create_engine(url)
    try:
        with database_errors(), engine.begin() as connection:
            config = alembic_config(connection)
            adopted = _adopt_app_schema(connection)
            if adopted:
                command.stamp(config, adopted)
                log.info("db.adopted_app_schema", revision=adopted)
            command.upgrade(config, revision)
            reached = current_revision(connection) or ""
    finally:
        engine.dispose()
    log.info("db.upgraded", revision=reached)
    return reached


def _adopt_app_schema(connection: Connection) -> str | None:
    """The app revision an unversioned app database matches, or None (versioned or empty)."""
    if current_revision(connection) is not None:
        return None
    inspector = inspect(connection)
    if not inspector.has_table("ImportedGame"):
        return None
    columns = {column["name"] for column in inspector.get_columns("ImportedGame")}
    return APP_MATCH_STATUS_REVISION if "igdbMatchStatus" in columns else APP_BASE_REVISION


def check(url: str, *, library_statuses: Sequence[str] = DEFAULT_LIBRARY_STATUSES) -> list[str]:
    """Differences between the live database at `url` and the models; empty when it matches.

    `library_statuses` are the configured unplayed and played LibraryItem statuses, which must be
    values of the live `LibraryItemStatus` enum.
    """
    engine = create_engine(url)
    try:
        with database_errors(), engine.connect() as connection:
            return find_drift(connection, library_statuses=library_statuses)
    finally:
        engine.dispose()
