"""An import read back through the app's own ORM: a Prisma 7 client (the `prisma-client`
generator and `@prisma/adapter-pg`, version 7.6.0 as in the app) generated from a Prisma schema,
reading every column of every row; each value must be what PostgreSQL holds, timestamps as UTC.

The import runs with its sessions' zone set to Asia/Kolkata, and Node's own zone is Asia/Kolkata
too: Prisma reads `timestamp(3)` as UTC whatever the zones, so a timestamp the database stored in
another zone would read shifted. The packages are pinned in tests/prisma-client/package-lock.json;
`npm ci` installs them once, then from npm's cache, offline. `prisma generate` never runs a schema
engine: it is pointed at a stub that fails if called, so it downloads none.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from tests.integration.app_schemas.test_app_schemas_pipeline import run_cli
from tests.integration.app_schemas.test_utc_timestamps import (
    ZONE,
    import_in_window,
    plain_engine,
    set_database_zone,
)
from tests.integration.databases import PostgresServer
from tests.node_packages import npm_ci

from steam_sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[3]
CLIENT_DIR = ROOT / "tests" / "prisma-client"
#: Today's app (savepoint-2026): its import-relevant models, written from its migrations' tables.
APP_2026_SCHEMA = CLIENT_DIR / "savepoint-2026.prisma"
WHAT = "the Prisma read-back tests (Prisma's client)"
#: The models both schemas have, each on the table of its name.
SHARED = ("ImportedGame", "Game", "LibraryItem", "Genre", "Platform", "GameGenre", "GamePlatform")

pytestmark = pytest.mark.node

Rows = dict[str, list[dict[str, Any]]]


def _node(arguments: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["node", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"`node {' '.join(arguments)}` failed:\n{done.stdout}{done.stderr}")
    return done


def _generate(schema: Path, name: str) -> Path:
    """`prisma generate` on a byte-for-byte copy of `schema` under tests/prisma-client/clients/
    (where Node finds the installed packages); the generated client's folder."""
    npm_ci(CLIENT_DIR, WHAT)
    work = CLIENT_DIR / "clients" / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copyfile(schema, work / "schema.prisma")
    stub = work / "schema-engine"
    stub.write_text("#!/bin/sh\necho 'this test runs no Prisma schema engine' >&2\nexit 1\n")
    stub.chmod(0o755)
    environment = {
        **os.environ,
        "PRISMA_SCHEMA_ENGINE_BINARY": str(stub),
        "CHECKPOINT_DISABLE": "1",
        "PRISMA_HIDE_UPDATE_MESSAGE": "1",
    }
    cli = CLIENT_DIR / "node_modules" / "prisma" / "build" / "index.js"
    _node([str(cli), "generate", "--schema", str(work / "schema.prisma")], environment)
    return work / "generated"


def _read_back(client: Path, url: str) -> Rows:
    """Every row of every model, as the generated client returns them (dates as ISO UTC)."""
    node_url = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    environment = {**os.environ, "DATABASE_URL": node_url, "TZ": ZONE, "PGTZ": ZONE}
    done = _node([str(CLIENT_DIR / "read_back.mjs"), str(client)], environment)
    rows: Rows = json.loads(done.stdout)
    return rows


def _as_prisma_reads(value: object) -> object:
    """A value PostgreSQL holds as Prisma returns it: `timestamp(3)` as UTC, ISO with 'Z'."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


def _stored(url: str, tables: dict[str, str]) -> Rows:
    """Every row of each model's table (`tables`: model → table), read by SQL."""
    engine = plain_engine(url)
    try:
        with engine.connect() as connection:
            return {
                model: [
                    {key: _as_prisma_reads(value) for key, value in row._mapping.items()}
                    for row in connection.execute(text(f'SELECT * FROM "{table}"'))
                ]
                for model, table in tables.items()
            }
    finally:
        engine.dispose()


def _sorted(rows: Rows) -> dict[str, list[str]]:
    return {
        model: sorted(json.dumps(row, sort_keys=True) for row in found)
        for model, found in rows.items()
    }


def _stamps_outside(rows: Rows, start: datetime, end: datetime) -> list[str]:
    low, high = (t.replace(tzinfo=UTC) for t in (start, end))
    return [
        f"{model}.{column} = {row[column]}"
        for model, found in rows.items()
        for row in found
        for column in ("createdAt", "updatedAt")
        if column in row and not low <= datetime.fromisoformat(row[column]) <= high
    ]


def _check(
    read: Rows, url: str, tables: dict[str, str], window: tuple[datetime, datetime], older: str = ""
) -> None:
    """Prisma read every row as stored, and the import's timestamps in its run (`older`: a model
    whose rows were there before the import)."""
    assert set(read) == set(tables)
    assert all(read[model] for model in ("ImportedGame", "Game", "LibraryItem", "GameGenre"))
    assert _sorted(read) == _sorted(_stored(url, tables))
    written = {model: found for model, found in read.items() if model != older}
    assert _stamps_outside(written, *window) == []


def test_an_import_into_the_standalone_schema_reads_back_through_prisma(
    pg_server: PostgresServer,
    fresh_sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = _generate(ROOT / "prisma" / "schema.prisma", "standalone")
    url = pg_server.create()
    monkeypatch.setenv("PGTZ", ZONE)
    run_cli(fresh_sandbox, url, tmp_path, "db", "upgrade")
    window = import_in_window(fresh_sandbox, url, tmp_path / "data", "--create-user")
    _check(_read_back(client, url), url, {model: model for model in ("User", *SHARED)}, window)


@pytest.mark.parametrize("app_db", ["savepoint-2026"], indirect=True)
def test_an_import_into_todays_app_schema_reads_back_through_prisma(
    app_db: tuple[str, str],
    pg_server: PostgresServer,
    fresh_sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    client = _generate(APP_2026_SCHEMA, "savepoint-2026")
    _, url = app_db
    set_database_zone(pg_server, url)
    window = import_in_window(fresh_sandbox, url, tmp_path / "data")
    models = (*SHARED, "Playthrough", "IgnoredImportedGames")
    tables = {"User": "user", **{model: model for model in models}}
    _check(_read_back(client, url), url, tables, window, older="User")
