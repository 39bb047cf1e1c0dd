"""Hostile upstreams and a silent database: how long each case takes to end, typed, and the peak
RSS of the process that met it. The figures docs/reliability.md quotes.

Run: `uv run python -m bench.hostile_upstream [--attempt S] [--budget S] [--cases a,b]`.

Each case runs `steam-import` in a child process (its peak RSS is the child's own `ru_maxrss`),
against a real server on 127.0.0.1 in this process: Steam sending `Content-Length: 10 GiB`, an
endless chunked body, one byte a second, or accepting and never answering; and PostgreSQL behind
a proxy that goes silent after the handshake (`db check`, with DATABASE_STATEMENT_TIMEOUT 10).
Without `--attempt`/`--budget` the settings are the defaults (HTTP_ATTEMPT_TIMEOUT 60 s,
STAGE_TIME_BUDGET_SECONDS 100 s, HTTP_MAX_RESPONSE_BYTES 32 MiB): the stall cases then take
about 100 s each. Figures are printed, never asserted; they depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STEAM_ID = "76561197960287930"
#: Short names of the HTTP cases (tests/reliability/stalls.py FAULTS).
CASES = {
    "10gib": "10 GiB Content-Length",
    "chunked": "endless chunked body",
    "dribble": "one byte a second",
    "silent": "accepts, never answers",
}


def _child(args: list[str], env: dict[str, str]) -> tuple[float, float, dict[str, Any], int]:
    """Seconds, peak RSS (MB), the JSON body and the exit code of one `steam-import` run."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdas", *args, "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    try:
        body: dict[str, Any] = json.loads(output or b"{}")
    except ValueError:
        body = {"error": output.decode(errors="replace")[-300:]}
    return seconds, usage.ru_maxrss / 1024, body, process.returncode


def main() -> None:
    from tests.reliability.stalls import FAULTS, HttpFault, SilentAfterProxy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempt", type=float, help="HTTP_ATTEMPT_TIMEOUT for the run")
    parser.add_argument("--budget", type=float, help="STAGE_TIME_BUDGET_SECONDS for the run")
    parser.add_argument(
        "--cases", help=f"comma-separated cases of {', '.join([*CASES, 'postgres'])} (default: all)"
    )
    parser.add_argument("--postgres", default="127.0.0.1:5432", help="host:port behind the proxy")
    options = parser.parse_args()
    wanted = set(options.cases.split(",")) if options.cases else None

    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STEAM_", "IGDB_", "DATABASE_", "HTTP_", "STAGE_", "DATA_DIR"))
    }
    base.update({"STEAM_API_KEY": "k" * 32, "LOG_LEVEL": "ERROR", "PYTHONPATH": str(ROOT / "src")})
    if options.attempt is not None:
        base["HTTP_ATTEMPT_TIMEOUT"] = str(options.attempt)
    if options.budget is not None:
        base["STAGE_TIME_BUDGET_SECONDS"] = str(options.budget)
    print(f"{'case':<34} {'seconds':>8} {'peak RSS MB':>12}  outcome")
    with tempfile.TemporaryDirectory() as work:
        for case, name in CASES.items():
            if wanted and case not in wanted:
                continue
            behaviour = FAULTS[name]
            with HttpFault(behaviour) as server:
                env = {**base, "DATA_DIR": work, "STEAM_API_BASE_URL": server.url}
                seconds, rss, body, code = _child(
                    ["steam", "--user-id", "bench", "--steam", STEAM_ID], env
                )
            _line(f"Steam: {name}", seconds, rss, body, code)
        if not wanted or "postgres" in wanted:
            host, port = options.postgres.rsplit(":", 1)
            env = {
                **base,
                "DATA_DIR": work,
                "DATABASE_URL": f"postgresql://postgres@{host}:{port}/postgres",
            }
            seconds, rss, body, code = _child(["db", "check"], env)
            _line("PostgreSQL: direct (baseline)", seconds, rss, {"error_code": "answered"}, code)
            with SilentAfterProxy((host, int(port))) as proxy:
                env = {
                    **base,
                    "DATA_DIR": work,
                    "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{proxy.port}/postgres",
                    "DATABASE_STATEMENT_TIMEOUT": "10",
                    "DATABASE_KEEPALIVE_SECONDS": "5",
                }
                seconds, rss, body, code = _child(["db", "check"], env)
            _line("PostgreSQL: silent after handshake", seconds, rss, body, code)


def _line(name: str, seconds: float, rss: float, body: dict[str, Any], code: int) -> None:
    outcome = f"{body.get('error_code', 'success')} (exit {code}): {body.get('error', '')}"
    print(f"{name:<34} {seconds:>8.1f} {rss:>12.0f}  {outcome[:140]}")


if __name__ == "__main__":
    main()
