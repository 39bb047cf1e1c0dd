"""The process dies (SIGKILL, no clean-up) between stages or inside stage 3's transaction; an
operator resumes from the stored CSV with `steam-import run --from-stage … --location …`, and the
database ends exactly as after a clean run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from tests.reliability.support import (
    USER,
    Figures,
    Harness,
    Snapshot,
    differences,
    rows_in,
    rows_missing,
)
from typer.testing import CliRunner

from lambdas.cli import app

# Runs the real pipeline in a child process and SIGKILLs itself at the requested point: when a
# stage is about to start, or just before the first SQL statement containing a marker.
CHILD = r"""
import asyncio, json, os, signal, sys
from sqlalchemy import event
from lambdas.clients.s3 import LocalStorage
from lambdas.config import Settings
from lambdas.pipeline import run_pipeline
from lambdas.sql.engine import create_engine
from lambdas.stages import StageContext

args = json.loads(sys.argv[1])
settings = Settings(**args["settings"])
engine = create_engine(settings.resolved_database_url)
kill_at = args["kill_at"]

def die(*_):
    os.kill(os.getpid(), signal.SIGKILL)

if kill_at.startswith("sql:"):
    event.listen(
        engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *rest: die() if kill_at[4:] in statement else None,
    )
context = StageContext(settings=settings, storage=LocalStorage(settings.data_dir), engine=engine)
asyncio.run(
    run_pipeline(
        first_event=args["event"],
        context=context,
        import_id="killed0001",
        on_stage=lambda stage: die() if stage.value == kill_at else None,
    )
)
print("the child was not killed")
"""


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures structlog on the runner's captured stream."""
    yield
    structlog.reset_defaults()


def _environment(harness: Harness) -> dict[str, str]:
    settings = harness.settings
    return {
        **{name: value for name, value in harness.sandbox.env().items()},
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": harness.db_url,
        "RETRY_INITIAL_WAIT_SECONDS": "0.01",
        "RETRY_MAX_WAIT_SECONDS": "0.2",
        "LOG_FORMAT": "json",
    }


def _run_child(harness: Harness, kill_at: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    args = {
        "settings": {name.lower(): value for name, value in _environment(harness).items()},
        "event": {"user_id": USER, "steam_id64": harness.steam_id()},
        "kill_at": kill_at,
    }
    return subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


KILL_POINTS = {
    "after-stage-1": ("enrich", "enrich", "-raw.csv"),
    "after-stage-2": ("load", "load", "-enriched.csv"),
    "inside-stage-3-transaction": ('sql:INSERT INTO "Game" ', "load", "-enriched.csv"),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_killed_then_resumed_from_the_stored_csv(
    point: str,
    harness: Harness,
    clean_state: Snapshot,
    reliability: Figures,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kill_at, resume_stage, suffix = KILL_POINTS[point]
    with reliability.fault(f"process: SIGKILL {point}"):
        before = harness.snapshot()
        child = _run_child(harness, kill_at, tmp_path)
        assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
        state = harness.snapshot()
        assert state == before, differences(before, state)  # none of the import
        stored = [key for key in harness.stored_keys() if key.endswith(suffix)]
        assert len(stored) == 1, harness.stored_keys()
        if suffix == "-raw.csv":
            assert not [key for key in harness.stored_keys() if key.endswith("-enriched.csv")]
        for name, value in _environment(harness).items():
            monkeypatch.setenv(name, value)
        location = harness.storage.location_of(stored[0])
        resumed = CliRunner().invoke(
            app,
            [
                "run",
                "--user-id",
                USER,
                "--from-stage",
                resume_stage,
                "--location",
                location,
                "--json",
            ],
            catch_exceptions=False,
        )
        assert resumed.exit_code == 0, resumed.output
        assert json.loads(resumed.stdout)["success"] is True
        final = harness.snapshot()
        reliability.record_rows_lost(rows_missing(clean_state, final), checked=rows_in(clean_state))
        assert final == clean_state, differences(clean_state, final)
