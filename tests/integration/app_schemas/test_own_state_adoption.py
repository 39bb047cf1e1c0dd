"""Own state on the app's database: made before it was versioned (by `create_all`, as `db
own-state` did), it is adopted by its own migration chain with every row kept and the app's
`public` schema byte for byte the same; without it, `keep` and `filtered` name the fix."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, text
from tests.integration.app_schemas.conftest import USER, schema_dump
from typer.testing import CliRunner

from lambdas.cli import app
from lambdas.errors import OwnStateMissingError, SchemaDriftError
from lambdas.models.app_cache import IgdbAnswer
from lambdas.models.rows import RawGameRow
from lambdas.models.steam_store import StoreType
from lambdas.sql.engine import OWN_SCHEMA, create_engine
from lambdas.state.app_cache import SqlAppCache
from lambdas.state.filtered import filtered_app_table, keep_app
from lambdas.state.schema import OWN_STATE_HEAD, own_state_metadata, own_state_revision, own_tables
from steam_sandbox import Sandbox

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def own_state_as_made_before(url: str) -> None:
    """Own state as `db own-state` made it before it was versioned: the schema and `create_all`,
    with cache rows, a filtered app and a `keep` override."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{OWN_SCHEMA}"'))
            own_tables()
            own_state_metadata.create_all(connection, checkfirst=True)
        cache = SqlAppCache(engine)
        cache.put_types([StoreType(10, 0, None), StoreType(20, 3, 10)], now=NOW)
        cache.put_igdb({10: IgdbAnswer((), title_name="Ten", title_games=())}, now=NOW)
        with engine.begin() as connection:
            connection.execute(
                insert(filtered_app_table).values(
                    user_id=USER, app_id=30, name="A Soundtrack", kind="SOUNDTRACK",
                    reason="steam_type=5", steam_type=5,
                    raw=RawGameRow(appid=30, name="A Soundtrack").model_dump_json(),
                    recorded_at=NOW.replace(tzinfo=None),
                )
            )  # fmt: skip
            keep_app(connection, USER, 20, now=NOW)
    finally:
        engine.dispose()


def cli(url: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, [*args, "--json"], env={**(env or {}), "DATABASE_URL": url})
    body: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, body


def own_state(url: str) -> str:
    """Everything in `steam_import`: its DDL and its rows, the version table's included."""
    return schema_dump(url, schema=OWN_SCHEMA, data=True)


def revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return own_state_revision(connection)
    finally:
        engine.dispose()


def rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: sorted(tuple(row) for row in connection.execute(table.select()))
                for table in own_tables()
            }
    finally:
        engine.dispose()


def test_own_state_made_by_create_all_is_adopted_and_the_apps_schema_is_untouched(
    app_db: tuple[str, str], fresh_sandbox: Sandbox
) -> None:
    profile, url = app_db
    own_state_as_made_before(url)
    before_rows = rows(url)
    assert {name: len(found) for name, found in before_rows.items()} == {
        "app_cache": 2,
        "filtered_app": 1,
        "app_override": 1,
    }
    public = schema_dump(url)
    assert revision(url) is None
    code, refused = cli(url, "filtered", "--user-id", USER)
    assert (code, refused["error_code"]) == (OwnStateMissingError.exit_code, "OWN_STATE_MISSING")
    assert "made before it was versioned" in refused["error"] and "db own-state" in refused["error"]
    warnings = cli(url, "db", "check")[1]["warnings"]
    assert any("db own-state" in warning for warning in warnings)

    code, body = cli(url, "db", "own-state")
    assert (code, body["own_state"]) == (0, OWN_SCHEMA), body
    assert revision(url) == OWN_STATE_HEAD
    assert rows(url) == before_rows
    assert schema_dump(url) == public, profile
    adopted = own_state(url)
    code, listed = cli(url, "filtered", "--user-id", USER)
    assert code == 0 and [app["app_id"] for app in listed["filtered"]] == [30]
    assert not any("db own-state" in w for w in cli(url, "db", "check")[1]["warnings"])

    code, body = cli(url, "db", "own-state")  # a second run changes nothing
    assert (code, body["own_state"]) == (0, OWN_SCHEMA)
    assert own_state(url) == adopted
    assert schema_dump(url) == public


def test_keep_and_filtered_without_own_state_name_the_command_that_makes_it(
    app_db: tuple[str, str], fresh_sandbox: Sandbox
) -> None:
    _profile, url = app_db
    public = schema_dump(url)
    env = fresh_sandbox.env()
    for args in (("keep", "--user-id", USER, "--app-id", "30"), ("filtered", "--user-id", USER)):
        code, body = cli(url, *args, env=env)
        assert code == OwnStateMissingError.exit_code and code != SchemaDriftError.exit_code, body
        assert body["error_code"] == "OWN_STATE_MISSING"
        assert "is missing" in body["error"]
        assert "run `steam-import db own-state`" in body["error"]
    assert schema_dump(url) == public
    assert revision(url) is None  # nothing made on the way
