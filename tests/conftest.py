"""Fixtures every test may use: a clean environment, settings without caches, log capture, S3."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from moto.server import ThreadedMotoServer

from lambdas.config import Settings, reset_settings
from tests import postgres

_PIPELINE_VARIABLES = {name.upper() for name in Settings.model_fields} | {
    "AWS_LAMBDA_FUNCTION_NAME"
}
#: What a shell exports for its terminal: a test's output is never that terminal.
_TERMINAL_VARIABLES = {"COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR", "TERMINAL_WIDTH"}


@pytest.fixture(autouse=True)
def clean_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No pipeline variable leaks in from the machine or from another test; caches reset."""
    saved = dict(os.environ)
    for name in _PIPELINE_VARIABLES | _TERMINAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # the default data folder and any .env are per test
    _reset_caches()
    yield
    _reset_caches()
    os.environ.clear()
    os.environ.update(saved)


def _reset_caches() -> None:
    reset_settings()
    from lambdas.handlers import _runtime

    _runtime._container_context.cache_clear()


@pytest.fixture
def captured_logs() -> Iterator[list[dict[str, Any]]]:
    """Every structlog event of the test, after our processors ran."""
    with structlog.testing.capture_logs() as logs:
        yield logs


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3-compatible server on a free loopback port; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(
    s3_server: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A fresh bucket per test on the moto server; AWS credentials for it in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    name = "imports-" + request.node.name.lower().replace("_", "-")[:40].strip("-[]")
    name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in name).strip("-")
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=name)
    return name


def pytest_sessionfinish() -> None:
    """After every fixture's teardown: stop the throwaway PostgreSQL, if the session started one."""
    postgres.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say which PostgreSQL server the database tests used (tests/postgres.py chose it)."""
    choice = postgres.chosen()
    if choice is not None:
        terminalreporter.write_line(f"PostgreSQL for the tests: {choice.origin}")
