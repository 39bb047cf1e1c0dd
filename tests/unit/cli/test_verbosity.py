"""`--verbose` / `--quiet`: one mapping to log levels, tracebacks on demand, never both at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lambdas.cli import app

KEY = "5EC2E7AB0123456789ABCDEF5EC2E7AB"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Steam at a loopback port nothing listens on: every command fails fast, refused twice, with
    CONFIGURATION_ERROR naming STEAM_API_BASE_URL (after one logged retry)."""
    return {
        "STEAM_API_KEY": KEY,
        "STEAM_API_BASE_URL": "http://127.0.0.1:9",
        "DATA_DIR": str(tmp_path / "data"),
        "STEAM_MAX_ATTEMPTS": "2",
        "RETRY_INITIAL_WAIT_SECONDS": "0.001",
        "LOG_FORMAT": "json",
    }


def steam(env: dict[str, str], *flags: str) -> tuple[int, str]:
    args = [*flags, "steam", "--user-id", "u1", "--steam", "76561197960287930"]
    result = CliRunner().invoke(app, args, env=env)
    return result.exit_code, result.stderr


def events(stderr: str) -> list[str]:
    return [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]


def test_default_no_traceback_only_the_code(env: dict[str, str]) -> None:
    code, stderr = steam(env)
    assert code == 78  # EX_CONFIG: nothing listens at the configured address
    assert "error CONFIGURATION_ERROR" in stderr and "STEAM_API_BASE_URL" in stderr
    assert "Traceback" not in stderr
    assert "http.retry" in events(stderr)  # INFO, as LOG_LEVEL defaults to off a terminal


def test_verbose_shows_the_chained_traceback_redacted(env: dict[str, str]) -> None:
    code, stderr = steam(env, "-v")
    assert code == 78
    assert "Traceback" in stderr
    assert "ConnectError" in stderr  # the cause, not only our translation of it
    assert "direct cause of the following exception" in stderr
    assert "ConfigurationError" in stderr
    assert KEY not in stderr
    assert "http.retry" in events(stderr)


def test_quiet_logs_errors_only(env: dict[str, str]) -> None:
    code, stderr = steam(env, "--quiet")
    assert code == 78
    assert "error CONFIGURATION_ERROR" in stderr
    assert events(stderr) == []  # the retry notices (INFO) are gone
    assert "Traceback" not in stderr


def test_verbose_and_quiet_together_are_a_usage_error(env: dict[str, str]) -> None:
    code, stderr = steam(env, "--verbose", "-q")
    assert code == 64  # INVALID_ARGUMENT
    assert "cannot be used together" in stderr
