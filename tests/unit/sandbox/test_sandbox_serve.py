"""The foreground runner behind `steam-import sandbox` and the command's option handling."""

from __future__ import annotations

import threading

from typer.testing import CliRunner

from lambdas.cli import app
from steam_sandbox import serve_forever


def test_serve_forever_describes_the_sandbox_and_stops() -> None:
    stop = threading.Event()
    stop.set()
    printed: list[str] = []

    serve_forever(
        port=0,
        seed=42,
        knob_assignments=["igdb.latency_ms=5"],
        latency_ms=1,
        rate_limit=False,
        on_ready=printed.append,
        stop=stop,
    )

    [text] = printed
    assert "export STEAM_API_KEY=5A4DB0C3E1F2A3B4C5D6E7F8091A2B3C" in text
    assert "export IGDB_API_BASE_URL=http://127.0.0.1:" in text
    assert "/v4" in text
    for name in ("small", "medium", "large", "huge", "private_profile", "nonexistent"):
        assert name in text
    assert "76561197961166730  sandbox_medium" in text


def test_cli_rejects_a_malformed_knob() -> None:
    result = CliRunner().invoke(app, ["sandbox", "--port", "0", "--knob", "latency=5"])

    assert result.exit_code == 64  # INVALID_ARGUMENT, as every usage error
    assert "INVALID_ARGUMENT" in result.stderr


def test_cli_rejects_an_invalid_knob_value() -> None:
    result = CliRunner().invoke(app, ["sandbox", "--port", "0", "-k", "igdb.error_rate=7"])

    assert result.exit_code == 64
