"""The commands a person types, through Typer's runner, against the sandbox and a real database."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lambdas.cli import app
from steam_sandbox import Sandbox

USER = "cli-user"


@pytest.fixture
def cli(fresh_sandbox: Sandbox, tmp_path: Path, db_url: str) -> Any:
    env = {
        **fresh_sandbox.env(),
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": db_url,
        "RETRY_INITIAL_WAIT_SECONDS": "0.01",
    }
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == code, result.output
        return json.loads(result.stdout) if "--json" in args else result.output

    return invoke


def test_stage_by_stage_then_review(cli: Any, fresh_sandbox: Sandbox) -> None:
    small = fresh_sandbox.users.small.steamid64
    cli("run", "--user-id", USER, "--steam", small, "--create-user", "--json")  # creates the user
    raw = cli("steam", "--user-id", USER, "--steam", small, "--json")
    assert raw["game_count"] == len(fresh_sandbox.ground_truth("small"))
    assert raw["location"] == raw["s3_location"]  # pit 13: `location`, the old key kept
    enriched = cli("enrich", "--user-id", USER, "--location", raw["location"], "--json")
    assert enriched["location"] == enriched["s3_enriched_location"]
    stats = enriched["stats"]
    assert stats["processed"] == raw["game_count"]
    loaded = cli(
        "load", "--user-id", USER, "--location", enriched["s3_enriched_location"], "--json"
    )
    assert loaded["success"] is True
    assert loaded["stats"]["imported_games_created"] == 0  # the first run created them

    resumed = cli(
        "run",
        "--user-id",
        USER,
        "--from-stage",
        "load",
        "--location",
        enriched["s3_enriched_location"],
        "--json",
    )
    assert list(resumed["stages"]) == ["load"]
    assert resumed["stages"]["load"]["stats"]["catalogue_verified"] is True  # stage 2 signed it

    # The same file copied by hand: its user's own rows only, and the command says so.
    copy = Path(enriched["s3_enriched_location"].removeprefix("file://"))
    copy = copy.with_name(copy.name.replace("-enriched.csv", "-copy-enriched.csv"))
    copy.write_bytes(Path(enriched["s3_enriched_location"].removeprefix("file://")).read_bytes())
    said = cli("load", "--user-id", USER, "--location", str(copy))
    assert "not signed by this pipeline's key" in " ".join(said.split())
    summary = cli("run", "--user-id", USER, "--from-stage", "load", "--location", str(copy))
    assert "not written: unsigned CSV" in summary

    waiting = cli("unmatched", "--user-id", USER, "--json")["unmatched"]
    assert len(waiting) == stats["unmatched"]
    assert all(game["imported_at"].endswith("+00:00") for game in waiting)  # UTC, said so
    human = cli("unmatched", "--user-id", USER)
    assert "need review" in human and "imported (UTC)" in human
    filtered = cli("filtered", "--user-id", USER, "--json")["filtered"]
    assert filtered and all(app["recorded_at"].endswith("+00:00") for app in filtered)

    found = cli("search", waiting[0]["name"], "--json")["results"]
    assert isinstance(found, list)
    typed = [item for item in found if item["game_type"] is not None]
    assert typed and all(item["game_type_name"] for item in typed)
    shown = cli("search", waiting[0]["name"])
    assert typed[0]["game_type_name"] in shown  # words, not IGDB's integer ids
    ignored = cli("ignore", "--user-id", USER, "--app-id", str(waiting[0]["app_id"]), "--json")
    assert ignored["status"] == "IGNORED"
    assert len(cli("unmatched", "--user-id", USER, "--json")["unmatched"]) == len(waiting) - 1

    cli("ignore", "--user-id", USER, "--app-id", "999999999", code=66)
    cli("link", "--user-id", USER, "--app-id", "1", "--igdb-id", "999999999", code=66)


def test_errors_become_exit_codes(cli: Any, fresh_sandbox: Sandbox) -> None:
    out = cli("run", "--user-id", "nobody", "--steam", fresh_sandbox.users.small.steamid64, code=66)
    assert "USER_NOT_FOUND" in out and "--create-user" in out
    refused = cli("run", "--user-id", USER, "--steam", "not-an-id", "--json", code=65)
    assert refused["error_code"] == "INVALID_STEAM_ID"  # before any request, with a JSON body
    cli("run", "--user-id", USER, code=64)  # --steam is required without --from-stage
    cli("run", "--user-id", USER, "--from-stage", "enrich", code=64)  # --location is required
    cli("enrich", "--user-id", USER, "--location", "/etc/passwd", code=77)  # FORBIDDEN_LOCATION
    failed = cli(
        "run",
        "--user-id",
        USER,
        "--steam",
        fresh_sandbox.users.private_games.steamid64,
        "--create-user",
        "--json",
        code=67,
    )
    assert (failed["failed_stage"], failed["error_code"]) == ("steam", "PRIVATE_PROFILE")


def test_sync_reports_every_user(cli: Any, fresh_sandbox: Sandbox) -> None:
    cli(
        "run",
        "--user-id",
        "u-small",
        "--steam",
        fresh_sandbox.users.small.steamid64,
        "--create-user",
        "--json",
    )
    cli(
        "run",
        "--user-id",
        "u-empty",
        "--steam",
        fresh_sandbox.users.empty.steamid64,
        "--create-user",
        "--json",
    )
    summary = cli("sync", "--json")
    assert (summary["users"], summary["failed"]) == (2, 0)
    assert "Sync: 2 of 2" in cli("sync")


def _on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """`steam-import ARGS` in a pseudo-terminal, as a person runs it: everything it printed."""
    main, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdas", *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env={**os.environ, **env, "TERM": "dumb", "COLUMNS": "200"},
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(main)
    return b"".join(chunks).decode(errors="replace")


def test_a_failed_run_says_its_error_once_on_a_terminal(
    fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    """Pit 7: the `pipeline.stopped` warning, then `error CODE …`: the same news twice."""
    env = {**fresh_sandbox.env(), "DATA_DIR": str(tmp_path / "data")}
    private = fresh_sandbox.users.private_profile.steamid64
    printed = _on_a_terminal(["run", "--user-id", USER, "--steam", private, "--create-user"], env)
    assert printed.count("PRIVATE_PROFILE") == 1, printed
    assert "pipeline.stopped" not in printed


def test_a_failed_quiet_run_prints_the_error_without_a_summary(
    fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    """Pit 7: `run -q` that failed in stage 2 printed the partial summary of stage 1 too."""
    env = {
        **fresh_sandbox.env(),
        "DATA_DIR": str(tmp_path / "data"),
        "IGDB_CLIENT_SECRET": "not-the-sandbox-secret",
        "RETRY_INITIAL_WAIT_SECONDS": "0.01",
    }
    small = fresh_sandbox.users.small.steamid64
    args = ["run", "--user-id", USER, "--steam", small, "--create-user"]
    loud = CliRunner().invoke(app, args, env=env)
    assert loud.exit_code != 0 and "apps in the Steam library" in loud.stdout  # the summary
    quiet = CliRunner().invoke(app, ["-q", *args], env=env)
    assert quiet.exit_code == loud.exit_code
    assert quiet.stdout == ""
    assert "error" in quiet.stderr and "in stage 2 (enrich):" in quiet.stderr


def test_the_summary_after_review_agrees_with_the_review_list(
    cli: Any, fresh_sandbox: Sandbox
) -> None:
    """Pit 5: after `ignore`, a re-run reuses stage 2's verdicts (unmatched) but keeps the user's
    decisions; its summary said "need review 2" while `unmatched` listed none."""
    small = fresh_sandbox.users.small.steamid64
    cli("run", "--user-id", USER, "--steam", small, "--create-user")
    waiting = cli("unmatched", "--user-id", USER, "--json")["unmatched"]
    assert waiting
    for game in waiting:
        cli("ignore", "--user-id", USER, "--app-id", str(game["app_id"]))
    rows = {}
    for line in cli("run", "--user-id", USER, "--steam", small).splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if len(cells) == 2 and cells[0]:
            rows[cells[0]] = cells[1]
    assert rows["games unmatched"] == str(len(waiting))  # stage 2's verdicts, reused
    assert rows["games waiting for review (`unmatched`)"] == "0"
    assert cli("unmatched", "--user-id", USER, "--json")["unmatched"] == []
