"""Schema entry points: Alembic upgrades of the standalone schema and of own state (`db upgrade`,
`db own-state`), and the live-schema check (`db check`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from lambdas.config import Settings
from lambdas.database.checks import check_fit
from lambdas.database.loader import LoadOptions, open_target
from lambdas.database.profiles import detect_profile
from lambdas.errors import AppOwnedSchemaError
from lambdas.sql.engine import DatabaseTimeouts, create_engine, database_errors
from lambdas.state.schema import FIX, OWN_SCHEMA, OWN_STATE_HEAD, own_state_revision

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
    """Create or upgrade the standalone schema at `url`, and its own state (`prepare_own_state`),
    in one transaction; the standalone schema's new revision (`revision` names one of its chain;
    own state always reaches its head).

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
            from lambdas.state.migrate import upgrade_own_state

            upgrade_own_state(connection)
    finally:
        engine.dispose()
    if reached != before:  # an event only when something changed: not on every demo or run
        log.info("db.upgraded", revision=reached, previous_revision=before)
    else:
        log.debug("db.up_to_date", revision=reached)
    return reached


def prepare_own_state(url: str) -> str:
    """Create, adopt or upgrade this project's own state (the `steam_import` schema) in the
    database at `url`; what holds it: the own schema's name, or the standalone schema's revision.

    On the app's database only `steam_import` is touched: its own migration chain runs there
    (tables made before it was versioned are adopted with their rows), never a change to the
    app's tables. On a standalone database (or SQLite) this is `upgrade`, which runs both chains.
    """
    engine = create_engine(url)
    try:
        with database_errors(), engine.begin() as connection:
            profile = detect_profile(connection)
            if not profile.owned_by_us:
                from lambdas.state.migrate import upgrade_own_state

                revision = upgrade_own_state(connection)
                log.info(
                    "db.own_state_ready",
                    schema=OWN_SCHEMA,
                    revision=revision,
                    profile=profile.name.value,
                )
                return OWN_SCHEMA
    finally:
        engine.dispose()
    return upgrade(url)


def _own_state_warning(connection: Connection) -> str | None:
    """What `db check` says about own state when it is not at this version's revision."""
    revision = own_state_revision(connection)
    if revision == OWN_STATE_HEAD:
        return None
    if revision is None:
        from lambdas.state.schema import own_tables, own_tables_exist

        if not own_tables_exist(connection, own_tables()):
            return (
                f'this project\'s own tables (schema "{OWN_SCHEMA}") are missing: the '
                "shared app cache, the filtered-app list and keep overrides are off; "
                f"`{FIX}` creates them without touching the app's tables"
            )
        found = "were made before own state was versioned"
    else:
        found = f"are at revision {revision}, this version's is {OWN_STATE_HEAD}"
    return (
        f'this project\'s own tables (schema "{OWN_SCHEMA}") {found}: `filtered` and `keep` '
        f"refuse until `{FIX}` upgrades them in place (rows kept, the app's tables untouched)"
    )


@dataclass
class CheckReport:
    """What `db check` found: the profile, the mode, and every difference or warning."""

    profile: str
    mode: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check(
    url: str, *, options: LoadOptions | None = None, settings: Settings | None = None
) -> CheckReport:
    """How the live database at `url` fits its schema profile; no problems means stage 3 can
    write. The standalone schema is also compared, table by table, with the models. Every wait
    is bounded by `settings`' DATABASE_* timeouts (the defaults without)."""
    options = options or LoadOptions()
    engine = create_engine(url, DatabaseTimeouts.from_settings(settings) if settings else None)
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
            if warning := _own_state_warning(connection):
                report.warnings.append(warning)
            if target.profile.owned_by_us:
                from lambdas.database.drift import find_drift

                drift = find_drift(
                    connection, library_statuses=target.rule.labels(), warnings=report.warnings
                )
                report.problems += [p for p in drift if p not in report.problems]
            return report
    finally:
        engine.dispose()
