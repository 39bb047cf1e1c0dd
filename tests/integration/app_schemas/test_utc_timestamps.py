"""Every timestamp an import writes is UTC, whatever time zone the database gives its sessions:
the app reads its `timestamp(3)` columns as UTC, and a column default (`CURRENT_TIMESTAMP`) takes
the session's zone. The zone here is set the two ways a real server gets one, by the database's
setting and by libpq's PGTZ, to Asia/Kolkata (UTC+5:30, no daylight saving)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from tests.integration.app_schemas.conftest import USER
from tests.integration.app_schemas.test_app_schemas_pipeline import run_cli
from tests.integration.databases import PostgresServer

from lambdas.sql.engine import create_engine
from steam_sandbox import Sandbox

ZONE = "Asia/Kolkata"
#: Timestamps that are data from Steam or IGDB, not the time of a write.
SOURCE_DATA = {("ImportedGame", "lastPlayedAt"), ("Game", "releaseDate")}
#: Written by every import into an empty database, in each profile (checked, not assumed, so the
#: test cannot pass by reading nothing). LibraryItem.createdAt is left to the column default.
WRITTEN = {
    (table, column)
    for table in ("ImportedGame", "Game", "Genre", "Platform", "LibraryItem")
    for column in ("createdAt", "updatedAt")
} | {("filtered_app", "recorded_at"), ("app_cache", "store_checked_at")}

Stamps = set[tuple[str, str, datetime]]


def plain_engine(url: str) -> Engine:
    """An engine with no session settings of the pipeline's: it gets the database's zone."""
    return sqlalchemy.create_engine(make_url(url).set(drivername="postgresql+psycopg"))


def _stamps(url: str) -> Stamps:
    """(table, column, value) of every non-NULL timestamp in the app's and this project's
    tables, read by a plain connection (in the database's zone: timestamps without time zone
    read the same in any)."""
    engine = plain_engine(url)
    found: Stamps = set()
    try:
        with engine.connect() as connection:
            columns = connection.execute(
                text(
                    "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema IN ('public', 'steam_import') "
                    "AND data_type LIKE 'timestamp%'"
                )
            ).all()
            for schema, table, column in columns:
                where = f'"{schema}"."{table}" WHERE "{column}" IS NOT NULL'
                values = connection.execute(text(f'SELECT "{column}" FROM {where}')).scalars()
                found.update((table, column, value) for value in values)
    finally:
        engine.dispose()
    return found


def _session_zone(url: str) -> str:
    """The zone a connection that does not choose one gets."""
    engine = plain_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.exec_driver_sql("SHOW timezone").scalar_one())
    finally:
        engine.dispose()


def set_database_zone(server: PostgresServer, url: str) -> None:
    with server.admin.connect() as connection:
        connection.exec_driver_sql(
            f"ALTER DATABASE \"{make_url(url).database}\" SET timezone TO '{ZONE}'"
        )


def import_in_window(
    sandbox: Sandbox, url: str, data: Path, *extra: str
) -> tuple[datetime, datetime]:
    """Run the whole pipeline; the run's window in naive UTC, widened to whole milliseconds
    (`timestamp(3)` rounds)."""
    start = datetime.now(UTC).replace(tzinfo=None)
    start = start.replace(microsecond=start.microsecond // 1000 * 1000)
    steam = str(sandbox.users.small.steamid64)
    body = run_cli(sandbox, url, data, "run", "--user-id", USER, "--steam", steam, *extra)
    assert body["success"] is True, body
    end = datetime.now(UTC).replace(tzinfo=None) + timedelta(milliseconds=1)
    return start, end


def _outside(written: Stamps, start: datetime, end: datetime) -> list[str]:
    return sorted(
        f"{table}.{column} = {value} (run: {start} .. {end} UTC)"
        for table, column, value in written
        if (table, column) not in SOURCE_DATA and not start <= value <= end
    )


def _checked(written: Stamps) -> set[tuple[str, str]]:
    return {(table, column) for table, column, _ in written} - SOURCE_DATA


def test_an_import_into_the_apps_schema_writes_utc_under_a_kolkata_session(
    app_db: tuple[str, str],
    pg_server: PostgresServer,
    fresh_sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    profile, url = app_db
    set_database_zone(pg_server, url)
    assert _session_zone(url) == ZONE
    run_cli(fresh_sandbox, url, tmp_path, "db", "own-state")
    before = _stamps(url)
    start, end = import_in_window(fresh_sandbox, url, tmp_path / "data")
    written = _stamps(url) - before
    assert _checked(written) >= WRITTEN, profile
    assert _outside(written, start, end) == [], profile


def test_an_import_into_the_standalone_schema_writes_utc_under_pgtz(
    pg_server: PostgresServer,
    fresh_sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = pg_server.create()
    monkeypatch.setenv("PGTZ", ZONE)  # libpq sends it at connect, for every connection
    assert _session_zone(url) == ZONE
    run_cli(fresh_sandbox, url, tmp_path, "db", "upgrade")
    start, end = import_in_window(fresh_sandbox, url, tmp_path / "data", "--create-user")
    written = _stamps(url)  # an empty database: everything in it is the import's
    assert _checked(written) >= WRITTEN | {("User", "createdAt"), ("User", "updatedAt")}
    assert _outside(written, start, end) == []


def test_every_connection_the_pipeline_opens_runs_in_utc(
    pg_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whichever way the zone comes (the database's setting, PGTZ, a role's), and after a
    rollback, the pipeline's sessions are in UTC, so `now()` and defaults are UTC too."""
    url = pg_server.create()
    set_database_zone(pg_server, url)
    monkeypatch.setenv("PGTZ", "America/St_Johns")
    assert _session_zone(url) == "America/St_Johns"
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.rollback()
            zone = connection.exec_driver_sql("SHOW timezone").scalar_one()
            gap = connection.exec_driver_sql(
                "SELECT CURRENT_TIMESTAMP::timestamp - (CURRENT_TIMESTAMP AT TIME ZONE 'UTC')"
            ).scalar_one()
        assert (zone, gap) == ("UTC", timedelta(0))
    finally:
        engine.dispose()
