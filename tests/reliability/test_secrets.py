"""Secret hygiene: with distinctive secret values, full runs (in-process pipeline,
the Lambda handlers, the command line) and failing runs leave no trace of the Steam key, the
Twitch secret or the database password in any log line (structlog at DEBUG and the standard
library's loggers, httpx/botocore/SQLAlchemy/psycopg included), error message or traceback,
stored CSV, or database text column.

The sandbox accepts one fixed Steam key and Twitch secret (both distinctive: 32 hex characters, and
`sbxsecret…`); the wrong ones tried by failing runs are canaries too. The database password belongs
to a role created for this test and travels in the URL over TCP to 127.0.0.1 (pg_hba may trust
it, which ignores the password but still sends the URL through every layer).
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from tests.events import FakeLambdaContext
from tests.reliability.support import (
    USER,
    BackendKiller,
    Figures,
    Harness,
    PostgresDatabases,
    empty_tables,
    outcome,
    sandbox_settings,
)
from typer.testing import CliRunner

from lambdas.cli import app
from lambdas.clients.igdb import reset_process_caches
from lambdas.clients.s3 import S3Storage
from lambdas.clients.signing import KEY_FILE_NAME
from lambdas.database.schema import upgrade
from lambdas.database.users import ensure_user
from lambdas.errors import TransientError
from lambdas.logging import configure_logging
from lambdas.models.db import metadata
from lambdas.sql.engine import create_engine
from lambdas.stages import StageContext
from steam_sandbox import Sandbox

#: A role is server-wide: a name of its own per session, so parallel workers and sessions never
#: drop each other's.
DB_ROLE = f"steam_import_canary_{secrets.token_hex(4)}"
DB_PASSWORD = "pgCanary-Pw-4f9a1c7e2b"
WRONG_STEAM_KEY = "C0FFEE00CANARY00DEADBEEF00BADD00"
WRONG_TWITCH_SECRET = "twitchCanarySecret-8e1d5a"
LIBRARY_LOGGERS = ("httpx", "httpcore", "botocore", "urllib3", "sqlalchemy", "psycopg", "boto3")


@dataclass
class Evidence:
    """Every text a run produced, labelled by where it came from."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    sources: list[tuple[str, Any]] = field(default_factory=list)

    def add(self, where: str, value: Any) -> None:
        if not isinstance(value, str):
            value = json.dumps(value, default=str)
        self.texts.append((where, value))

    def collect(self) -> None:
        """Take in what the log buffers and captured streams hold so far."""
        for where, read in self.sources:
            self.add(where, read())

    def logs(self) -> str:
        return "".join(value for where, value in self.texts if where in LOG_SOURCES)

    def leaks(self, secrets: list[str]) -> list[tuple[str, str]]:
        found = []
        for where, value in self.texts:
            lowered = value.lower()
            for secret in secrets:
                if secret.lower() in lowered:
                    start = lowered.index(secret.lower())
                    found.append((where, value[max(0, start - 60) : start + 60]))
        return found


LOG_SOURCES = {"structlog", "stdlib logging", "stdout", "stderr"}


@pytest.fixture(scope="session")
def canary_db_url(pg_databases: PostgresDatabases) -> str:
    """A migrated database owned by a role with a password, reached over TCP with it."""
    pg_databases.create_role(DB_ROLE, DB_PASSWORD)
    admin_url = pg_databases.create(owner=DB_ROLE)
    url = (
        make_url(admin_url)
        .set(username=DB_ROLE, password=DB_PASSWORD, host="127.0.0.1")
        .render_as_string(hide_password=False)
    )
    upgrade(url)
    return url


@pytest.fixture
def capture(capsys: pytest.CaptureFixture[str]) -> Iterator[Evidence]:
    """structlog at DEBUG as JSON into a buffer, and every standard-library logger at DEBUG."""
    structured = io.StringIO()
    configure_logging(level="DEBUG", log_format="json", stream=structured)
    plain = io.StringIO()
    handler = logging.StreamHandler(plain)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in ("", *LIBRARY_LOGGERS)}
    root.addHandler(handler)
    for name in ("", *LIBRARY_LOGGERS):
        logging.getLogger(name).setLevel(logging.DEBUG)
    streams: list[tuple[str, str]] = []

    def read_streams(which: int) -> str:
        if which == 0:
            streams.append(capsys.readouterr())
        return streams[-1][which] if streams else ""

    evidence = Evidence(
        sources=[
            ("structlog", lambda: _drain(structured)),
            ("stdlib logging", lambda: _drain(plain)),
            ("stdout", lambda: read_streams(0)),
            ("stderr", lambda: read_streams(1)),
        ]
    )
    try:
        yield evidence
    finally:
        root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
        structlog.reset_defaults()


def _drain(buffer: io.StringIO) -> str:
    value = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return value


@dataclass
class World:
    sandbox: Sandbox
    db_url: str
    engine: Engine
    bucket: str
    endpoint: str
    data_dir: Path

    def env(self) -> dict[str, str]:
        return {
            **self.sandbox.env(),
            "DATABASE_URL": self.db_url,
            "S3_BUCKET": self.bucket,
            "S3_ENDPOINT_URL": self.endpoint,
            "DATA_DIR": str(self.data_dir),
            "RETRY_INITIAL_WAIT_SECONDS": "0.01",
            "RETRY_MAX_WAIT_SECONDS": "0.2",
            "HTTP_READ_TIMEOUT": "2",
            "STEAM_MAX_ATTEMPTS": "2",
            "IGDB_MAX_ATTEMPTS": "2",
            "LOG_LEVEL": "DEBUG",
            "LOG_FORMAT": "json",
        }

    def secrets(self) -> list[str]:
        found = [
            self.sandbox.steam_api_key,
            self.sandbox.igdb_client_secret,
            DB_PASSWORD,
            WRONG_STEAM_KEY,
            WRONG_TWITCH_SECRET,
        ]
        key = self.data_dir / KEY_FILE_NAME  # the enriched CSV key stage 2 generated here
        if key.exists():
            found.append(key.read_text().strip())
        return found


@pytest.fixture
def world(
    sandbox: Sandbox,
    canary_db_url: str,
    s3_server: str,
    s3_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    engine = create_engine(canary_db_url)
    empty_tables(engine)  # the shared app cache too: every run really asks Steam and IGDB
    ensure_user(engine, user_id=USER, create=True)
    found = World(sandbox, canary_db_url, engine, s3_bucket, s3_server, tmp_path / "data")
    for name, value in found.env().items():
        monkeypatch.setenv(name, value)
    yield found
    engine.dispose()


def _stored(world: World, evidence: Evidence) -> None:
    """Every stored object and every text column of every table."""
    client = boto3.client("s3", endpoint_url=world.endpoint, region_name="us-east-1")
    for item in client.list_objects_v2(Bucket=world.bucket).get("Contents", []):
        body = client.get_object(Bucket=world.bucket, Key=item["Key"])["Body"].read()
        evidence.add(f"s3://{world.bucket}/{item['Key']}", body.decode("utf-8", "replace"))
    if world.data_dir.exists():
        for path in world.data_dir.rglob("*"):
            if path.is_file() and path.name != KEY_FILE_NAME:  # the key's own store
                evidence.add(str(path), path.read_bytes().decode("utf-8", "replace"))
    from lambdas.state.schema import own_state_metadata

    with world.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for (row,) in connection.execute(
                text(f'SELECT row_to_json(t)::text FROM "{table.name}" t')
            ):
                evidence.add(f"table {table.name}", row)
        for table in own_state_metadata.sorted_tables:  # shared app cache, filtered apps
            qualified = f'"{table.schema}"."{table.name}"'
            for (row,) in connection.execute(
                text(f"SELECT row_to_json(t)::text FROM {qualified} t")
            ):
                evidence.add(f"table {table.schema}.{table.name}", row)


def _failure_text(exc: BaseException) -> str:
    """What a Lambda runtime prints for an unhandled error: the whole chained traceback."""
    return "".join(traceback.format_exception(exc))


def _context(world: World, **overrides: Any) -> StageContext:
    settings = sandbox_settings(
        world.sandbox,
        world.data_dir,
        database_url=SecretStr(world.db_url),
        s3_bucket=world.bucket,
        s3_endpoint_url=world.endpoint,
        **overrides,
    )
    client = boto3.client("s3", endpoint_url=world.endpoint, region_name="us-east-1")
    return StageContext(
        settings=settings, storage=S3Storage(world.bucket, client), engine=world.engine
    )


def _harness(world: World, context: StageContext) -> Harness:
    return Harness(
        sandbox=world.sandbox,
        engine=world.engine,
        db_url=world.db_url,
        storage=context.storage,
        settings=context.settings,
    )


FAILURES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    # name: (settings overrides, sandbox knobs, expected error code)
    "wrong-steam-key": ({"steam_api_key": WRONG_STEAM_KEY}, {}, "STEAM_AUTH_FAILED"),
    "wrong-twitch-secret": ({"igdb_client_secret": WRONG_TWITCH_SECRET}, {}, "IGDB_AUTH_FAILED"),
    "steam-5xx": ({}, {"steam": {"error_rate": 1.0}}, "UPSTREAM_UNAVAILABLE"),
    "steam-timeouts": (
        {"http_read_timeout": 0.2},
        {"steam": {"hang_probability": 1.0, "hang_seconds": 0.6}},
        "UPSTREAM_UNAVAILABLE",
    ),
    "igdb-5xx": ({}, {"igdb": {"error_rate": 1.0}}, "UPSTREAM_UNAVAILABLE"),
    "twitch-5xx": ({}, {"twitch": {"error_rate": 1.0}}, "UPSTREAM_UNAVAILABLE"),
    "igdb-429": ({}, {"igdb": {"burst_429_rate": 1.0}}, "IGDB_RATE_LIMITED"),
    "database-refused": ({"database": "port-1"}, {}, "DATABASE_UNAVAILABLE"),
    "database-unknown-role": ({"database": "unknown-role"}, {}, "DATABASE_UNAVAILABLE"),
    "database-backend-killed": ({"database": "kill"}, {}, "DATABASE_UNAVAILABLE"),
}


def _database_variant(world: World, variant: str) -> tuple[str, Engine]:
    url = make_url(world.db_url)
    if variant == "port-1":
        url = url.set(port=1)
    elif variant == "unknown-role":
        url = url.set(username="nobody_canary")
    rendered = url.render_as_string(hide_password=False)
    return rendered, create_engine(rendered)


@pytest.mark.parametrize("name", list(FAILURES))
def test_failing_runs_leak_nothing(
    name: str, world: World, capture: Evidence, reliability: Figures
) -> None:
    overrides, knobs, expected = FAILURES[name]
    overrides = dict(overrides)
    variant = overrides.pop("database", None)
    context = _context(world, **overrides)
    engine = world.engine
    if variant in ("port-1", "unknown-role"):
        url, engine = _database_variant(world, variant)
        context = StageContext(
            settings=context.settings.model_copy(update={"database_url": SecretStr(url)}),
            storage=context.storage,
            engine=engine,
        )
    if knobs:
        world.sandbox.set_knobs(**knobs)
    harness = _harness(world, context)
    if variant == "kill":
        with BackendKiller(world.engine, world.db_url, 'INSERT INTO "Game" '):
            result = harness.run(context=context)
    else:
        result = harness.run(context=context)
    assert outcome(result) == expected, result.as_dict()
    capture.add("pipeline result", result.as_dict())
    if engine is not world.engine:
        engine.dispose()
    _check(world, capture, reliability)


def test_full_runs_leak_nothing(
    world: World, capture: Evidence, reliability: Figures, capsys: pytest.CaptureFixture[str]
) -> None:
    """An in-process pipeline, the three Lambda handlers chained as Step Functions chains them
    (and a transient failure raised out of one), and `steam-import run` on the command line."""
    from lambdas.handlers import database_import, igdb_enrichment, steam_import

    harness = _harness(world, _context(world))
    result = harness.run()
    assert result.success, result.as_dict()
    capture.add("pipeline result", result.as_dict())
    capture.collect()
    logs = capture.logs()
    # The capture is live: httpx logged every Steam URL (key redacted), structlog every request.
    assert "GetOwnedGames" in logs and "key=***" in logs and '"igdb.request"' in logs
    assert "SELECT" in logs  # SQLAlchemy's statement log at DEBUG

    lambda_context = FakeLambdaContext(aws_request_id="req-canary-1")
    first = steam_import.handler(
        {"user_id": USER, "steam_id64": harness.steam_id("small")}, lambda_context
    )
    second = igdb_enrichment.handler(first, lambda_context)
    third = database_import.handler(second, lambda_context)
    assert third["success"], third
    capture.add("handler responses", [first, second, third])
    bad = steam_import.handler({"user_id": USER, "steam_id64": "76561197961166733"}, lambda_context)
    assert bad["error_code"] == "PRIVATE_PROFILE"
    capture.add("handler failure", bad)
    world.sandbox.set_knobs(igdb={"error_rate": 1.0})
    reset_process_caches()
    with pytest.raises(TransientError) as raised:
        igdb_enrichment.handler({**first, "refresh_metadata": True}, lambda_context)
    capture.add("handler traceback", _failure_text(raised.value))
    world.sandbox.reset()

    outcome_ = CliRunner().invoke(
        app,
        ["run", "--user-id", USER, "--steam", harness.steam_id("small"), "--json"],
        catch_exceptions=False,
    )
    assert outcome_.exit_code == 0, outcome_.output
    capture.add("cli output", outcome_.output)
    capture.add("cli stderr", getattr(outcome_, "stderr", ""))
    failing = CliRunner().invoke(
        app, ["steam", "--user-id", USER, "--steam", "76561197961166733"], catch_exceptions=False
    )
    assert failing.exit_code != 0
    capture.add("cli failure", failing.output)
    assert (world.data_dir / KEY_FILE_NAME).exists()  # so the key is among the secrets searched
    _check(world, capture, reliability)


def _check(world: World, evidence: Evidence, figures: Figures) -> None:
    evidence.collect()
    _stored(world, evidence)
    leaks = evidence.leaks(world.secrets())
    figures.record_leaks(len(leaks), scanned=len(evidence.texts))
    assert leaks == [], leaks
