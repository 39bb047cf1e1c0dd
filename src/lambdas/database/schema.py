"""Schema entry points: Alembic upgrades of the standalone schema, and the live-schema check."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from lambdas.database.checks import check_fit
from lambdas.database.engine import DatabaseTimeouts, create_engine, database_errors
from lambdas.database.loader import LoadOptions, open_target
from lambdas.database.own_state import OWN_SCHEMA
from lambdas.database.profiles import detect_profile
from lambdas.errors import AppOwnedSchemaError

log = structlog.get_logger()


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


def version_table_schema(connection: Connection) -> str | None:
    """Where Alembic's version table lives: this project's own schema (none on SQLite)."""
    return OWN_SCHEMA if connection.dialect.name == "postgresql" else None


def current_revision(connection: Connection) -> str | None:
    """The revision recorded in the database, or None when Alembic never ran on it."""
    opts = {"version_table_schema": version_table_schema(connection)}
    return MigrationContext.configure(connection, opts=opts).get_current_revision()


def upgrade(url: str, *, revision: str = "head") -> str:
    """Create or upgrade the standalone schema at `url` in one transaction; the new revision.

    Refused, with nothing changed, on a database whose tables the app's Prisma migrations own
    (`savepoint-2025` or `savepoint-2026`): the app's schema changes only through the app.
    """
    engine = create_engine(url)
    try:
        with database_errors(), engine.begin() as connection:
            profile = detect_profile(connection)
            if not profile.owned_by_us:
                raise AppOwnedSchemaError(
                    f"this database has the app's own schema ({profile.name.value}); its schema "
                    "changes only through the app's Prisma migrations, so `db upgrade` changes "
                    "nothing here. Stage 3 imports into it as it is (`steam-import db check`); "
                    "`steam-import db own-state` adds this project's own tables beside the app's"
                )
            before = current_revision(connection)
            command.upgrade(alembic_config(connection), revision)
            reached = current_revision(connection) or ""
    finally:
        engine.dispose()
    if reached != before:  # an event only when something changed: not on every demo or run
        log.info("db.upgraded", revision=reached, previous_revision=before)
    else:
        log.debug("db.up_to_date", revision=reached)
    return reached


def prepare_own_state(url: str) -> str:
    """Create this project's own tables (the `steam_import` schema) in the database at `url`;
    what now holds them: the standalone schema's revision, or the own schema's name.

    On the app's database only `steam_import` is created: the shared app cache, the filtered
    apps and the keep/ignore overrides, never a change to the app's own tables. On a standalone
    database (or SQLite) this is `upgrade`, whose migrations own those tables there.
    """
    engine = create_engine(url)
    try:
        with database_errors(), engine.begin() as connection:
            profile = detect_profile(connection)
            if not profile.owned_by_us:
                from lambdas.database import app_cache, filtered  # noqa: F401 - declare tables
                from lambdas.database.own_state import own_state_metadata

                connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{OWN_SCHEMA}"'))
                own_state_metadata.create_all(connection, checkfirst=True)
                log.info("db.own_state_ready", schema=OWN_SCHEMA, profile=profile.name.value)
                return OWN_SCHEMA
    finally:
        engine.dispose()
    return upgrade(url)


def _has_own_state(connection: Connection) -> bool:
    from lambdas.database import app_cache, filtered  # noqa: F401 - declare the tables
    from lambdas.database.own_state import own_state_metadata, own_tables_exist

    return own_tables_exist(connection, own_state_metadata.sorted_tables)


@dataclass
class CheckReport:
    """What `db check` found: the profile, the mode, and every difference or warning."""

    profile: str
    mode: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check(
    url: str, *, options: LoadOptions | None = None, timeouts: DatabaseTimeouts | None = None
) -> CheckReport:
    """How the live database at `url` fits its schema profile; no problems means stage 3 can
    write. The standalone schema is also compared, table by table, with the models."""
    options = options or LoadOptions()
    engine = create_engine(url, timeouts)
    try:
        with database_errors(), engine.connect() as connection:
            target = open_target(connection, options)
            fit = check_fit(connection, target.tables, target.rule)
            report = CheckReport(
                profile=target.profile.name.value,
                mode=options.mode.value,
                problems=fit.problems,
                warnings=fit.warnings,
            )
            if not target.profile.owned_by_us and not _has_own_state(connection):
                report.warnings.append(
                    f'this project\'s own tables (schema "{OWN_SCHEMA}") are missing: the '
                    "shared app cache, the filtered-app list and keep overrides are off; "
                    "`steam-import db own-state` creates them without touching the app's tables"
                )
            if target.profile.owned_by_us:
                from lambdas.database.drift import find_drift

                drift = find_drift(
                    connection, library_statuses=target.rule.labels(), warnings=report.warnings
                )
                report.problems += [p for p in drift if p not in report.problems]
            return report
    finally:
        engine.dispose()
