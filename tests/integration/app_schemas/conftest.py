"""The app's own schemas, each in a new PostgreSQL database built only from DDL this project
wrote from the app's migrations (tests/app_schemas/), with one user; and what tests read back."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import datetime
from importlib.resources import files

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from tests import postgres
from tests.integration.databases import PostgresServer

from lambdas.sql.engine import create_engine

USER = "cappuser000000000000000001"
NOW = datetime(2026, 6, 30, 12, 0, 0)
PROFILES = {"savepoint-2025": "User", "savepoint-2026": "user"}


@pytest.fixture(params=sorted(PROFILES))
def app_db(request: pytest.FixtureRequest, pg_server: PostgresServer) -> Iterator[tuple[str, str]]:
    """The profile's schema and its user, copied from a template database built once."""
    profile: str = request.param

    def build(url: str) -> None:
        ddl = (files("tests") / "app_schemas" / f"{profile.replace('-', '_')}.sql").read_text()
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql(ddl)
            connection.execute(
                text(f'INSERT INTO "{PROFILES[profile]}" (id, "updatedAt") VALUES (:id, :now)'),
                {"id": USER, "now": NOW},
            )
        engine.dispose()

    url = pg_server.create_from(f"app schema {profile}", build)
    yield profile, url
    pg_server.drop_soon(url)


def schema_dump(url: str, *, schema: str = "public", data: bool = False) -> str:
    """`pg_dump` of one schema: its DDL, and with `data` its rows too."""
    parsed = make_url(url)
    environment = {**os.environ, "PGPASSWORD": parsed.password or ""}
    dump = subprocess.run(
        [
            postgres.pg_dump(),  # the embedded build's: the newest, so it dumps any server
            *([] if data else ["--schema-only"]),
            f"--schema={schema}",
            "-h",
            str(parsed.host),
            "-U",
            str(parsed.username),
            "-p",
            str(parsed.port),
            str(parsed.database),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
    ).stdout
    # pg_dump brackets its output with a random \restrict key; the schema is everything else.
    return "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))


def table(engine: Engine, name: str) -> list[dict[str, object]]:
    with engine.connect() as connection:
        result = connection.execute(text(f'SELECT * FROM "{name}" ORDER BY 1'))
        return [dict(r._mapping) for r in result]
