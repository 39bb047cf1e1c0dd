"""Hostile command-line input: every case is a typed error with its exit code and, under --json,
one JSON body on stdout; nothing is fetched, stored or written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from tests.reliability.support import USER, Figures, Harness
from typer.testing import CliRunner

from lambdas.cli import app
from lambdas.models.events import Stage


def _cli(harness: Harness, *args: str, database_url: str | None = None) -> Result:
    env = {
        **harness.sandbox.env(),
        "DATA_DIR": str(harness.settings.data_dir),
        "DATABASE_URL": database_url or harness.db_url,
        "RETRY_INITIAL_WAIT_SECONDS": "0.01",
    }
    return CliRunner().invoke(app, list(args), env=env)


def _files(root: Path) -> set[Path]:
    return set(root.rglob("*")) if root.exists() else set()


def _refused(harness: Harness, args: list[str], code: str, exit_code: int) -> dict[str, Any]:
    before, files = harness.snapshot(), _files(harness.settings.data_dir)
    steam_before = harness.sandbox.stats().requests.get("steam", {})
    result = _cli(harness, *args, "--json")
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    assert (body["success"], body["error_code"]) == (False, code), body
    assert body["error"] and len(body["error"]) < 400, body
    human = _cli(harness, *args)  # the same refusal for a person: code and message on stderr
    assert human.exit_code == exit_code and code in human.output, human.output
    assert harness.snapshot() == before
    assert _files(harness.settings.data_dir) == files
    assert harness.sandbox.stats().requests.get("steam", {}) == steam_before
    return body


LOCATION = "imports/rel-user-1/20260101T000000000000Z-x-enriched.csv"

LOAD_EVENTS = {
    "empty-user-id": ("", LOCATION),
    "user-id-1025-characters": ("u" * 1025, LOCATION),
    "empty-location": (USER, ""),
    "location-4097-characters": (USER, "imports/" + "l" * 4085 + ".csv"),
}


@pytest.mark.parametrize("name", LOAD_EVENTS)
def test_load_refuses_a_hostile_event(name: str, harness: Harness, reliability: Figures) -> None:
    """`load` builds its event inside the error handling, as `enrich` and `run` do."""
    user_id, location = LOAD_EVENTS[name]
    with reliability.hostile_input(f"cli load event: {name}"):
        body = _refused(
            harness,
            ["load", "--user-id", user_id, "--location", location],
            "INVALID_EVENT",
            65,
        )
        assert "database_import event is invalid" in body["error"]


@pytest.mark.parametrize("command", ["steam", "run"])
@pytest.mark.parametrize("text", ["not-an-id", "' OR '1'='1", "7" * 300])
def test_invalid_steam_text_is_invalid_steam_id(
    command: str, text: str, harness: Harness, reliability: Figures
) -> None:
    """Not a usage box (exit 2, no JSON): INVALID_STEAM_ID, exit 65, like every bad input."""
    with reliability.hostile_input(f"cli --steam at {command}: {text[:12]}"):
        _refused(harness, [command, "--user-id", USER, "--steam", text], "INVALID_STEAM_ID", 65)


def test_a_database_that_does_not_exist_is_permanent(
    harness: Harness, reliability: Figures
) -> None:
    """A DATABASE_URL naming no database was reported as transient (75, "retry"); no retry can
    create it, so it is CONFIGURATION_ERROR (78), permanent."""
    from sqlalchemy.engine import make_url

    missing = make_url(harness.db_url).set(database="steam_import_no_such_database")
    with reliability.hostile_input("database url: no such database"):
        first = harness.run(kind="small")
        assert first.success
        location = first.response(Stage.ENRICH).s3_enriched_location
        result = _cli(
            harness,
            *("load", "--user-id", USER, "--location", location, "--json"),
            database_url=missing.render_as_string(hide_password=False),
        )
        assert result.exit_code == 78, result.output
        body = json.loads(result.stdout)
        assert body["error_code"] == "CONFIGURATION_ERROR", body
        assert "Traceback" not in result.output


def test_a_database_without_the_apps_users_table_is_schema_drift(
    harness: Harness, reliability: Figures
) -> None:
    """A database whose users table is neither "User" nor "user" ended in a raw SQLAlchemy
    ProgrammingError (exit 1); it fits no profile: SCHEMA_DRIFT (70), nothing written."""
    from sqlalchemy import create_engine as plain_engine
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from tests.reliability.support import PostgresDatabases

    with reliability.hostile_input("database: no users table"):
        first = harness.run(kind="small")
        assert first.success
        location = first.response(Stage.ENRICH).s3_enriched_location
        server = PostgresDatabases(
            make_url(harness.db_url).set(database="postgres").render_as_string(hide_password=False)
        )
        try:
            url = server.create()
            engine = plain_engine(url)
            with engine.begin() as connection:
                connection.execute(text('CREATE TABLE "Account" (id TEXT PRIMARY KEY)'))
            engine.dispose()
            result = _cli(
                harness,
                *("load", "--user-id", USER, "--location", location, "--json"),
                database_url=url,
            )
            assert result.exit_code == 70, result.output
            assert json.loads(result.stdout)["error_code"] == "SCHEMA_DRIFT"
            assert "Traceback" not in result.output
        finally:
            server.drop_all()


MALFORMED_DATABASE_URLS = {
    "port-not-a-number": "postgresql://u:s3cr3t-pw@127.0.0.1:notaport/db",
    "unclosed-ipv6-bracket": "postgresql://u:s3cr3t-pw@[::1/db",
    "unknown-driver": "postgresql+foo://u:s3cr3t-pw@127.0.0.1/db",
    "port-99999": "postgresql://u:s3cr3t-pw@127.0.0.1:99999/db",
}


@pytest.mark.parametrize("command", ["db check", "run"])
@pytest.mark.parametrize("name", MALFORMED_DATABASE_URLS)
def test_a_malformed_database_url_is_a_configuration_error(
    name: str, command: str, harness: Harness, reliability: Figures
) -> None:
    """Three of these crashed with a Python traceback (exit 1) and port 99999 was
    DATABASE_UNAVAILABLE (75, "retry"): each is CONFIGURATION_ERROR (78) naming DATABASE_URL,
    never its password, and nothing is fetched or written."""
    args = {
        "db check": ["db", "check"],
        "run": ["run", "--user-id", USER, "--steam", harness.steam_id("small")],
    }[command]
    with reliability.hostile_input(f"database url: {name} ({command})"):
        before = harness.snapshot()
        result = _cli(harness, *args, "--json", database_url=MALFORMED_DATABASE_URLS[name])
        assert result.exit_code == 78, result.output
        assert "Traceback" not in result.output and "s3cr3t" not in result.output
        body = json.loads(result.stdout)
        assert body["error_code"] == "CONFIGURATION_ERROR", body
        assert "DATABASE_URL" in body["error"], body
        assert harness.snapshot() == before
