"""What the command line prints: help without `<bool>`, whole lines off a terminal, a progress
count only once known, a summary that adds up (and none when nothing succeeded), IGDB's game
types in words, and errors that say how to bring the emulator back."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from lambdas.cli import _output, _render, app
from lambdas.cli.review import game_type_name
from lambdas.models.events import (
    DatabaseImportResponse,
    EnrichmentStats,
    IgdbEnrichmentResponse,
    ImportStats,
    SteamImportResponse,
)
from lambdas.pipeline import PipelineResult, Stage, StageRun

NO_IGDB = {"IGDB_CLIENT_ID": "", "IGDB_CLIENT_SECRET": ""}


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path of a Typer group (Typer 0.29 vendors its own click: no isinstance)."""
    found: list[tuple[str, ...]] = [path]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_help_shows_no_type_beside_flags() -> None:
    commands = _commands(typer.main.get_command(app))
    assert ("run",) in commands and ("db", "check") in commands
    for command in commands:
        result = CliRunner().invoke(app, [*command, "--help"])
        assert result.exit_code == 0, result.output
        assert "--help" in result.output
        assert "<bool>" not in result.output, command
    assert "<str>" in CliRunner().invoke(app, ["run", "--help"]).output  # valued options keep it


def test_help_describes_every_option_in_words() -> None:
    """Pit 12: `search --limit` had no description, `sandbox --knob` showed `<list[str]>`, and
    `demo --user` did not show its choices."""
    search = CliRunner().invoke(app, ["search", "--help"], env={"COLUMNS": "200"}).output
    assert "How many candidates at most" in search
    sandbox = CliRunner().invoke(app, ["sandbox", "--help"], env={"COLUMNS": "200"}).output
    assert "list[str]" not in sandbox and "KNOB" in sandbox
    demo = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "200"}).output
    assert "small|medium|large|huge" in demo
    db = CliRunner().invoke(app, ["db", "--help"], env={"COLUMNS": "200"}).output
    assert "the app's database schema" not in db and "this tool's schema" in db


@pytest.mark.parametrize("columns", [None, "120", "40"])
def test_lines_are_not_wrapped_when_output_is_not_a_terminal(
    tmp_path: Path, columns: str | None
) -> None:
    """Whatever COLUMNS the shell exported for its terminal: a pipe has no width."""
    env = {**NO_IGDB, "DATA_DIR": str(tmp_path), "COLUMNS": columns}
    result = CliRunner().invoke(app, ["search", "Portal"], env=env)
    assert result.exit_code == 78
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # ~300 characters, one line: not broken at 80
    assert len(lines[0]) > 200


def test_an_exported_columns_does_not_wrap_a_pipe(tmp_path: Path) -> None:
    """Pit 1, as a shell runs it: `COLUMNS=120 steam-import search x 2>&1 | cat` gave 3 lines."""
    done = subprocess.run(
        [sys.executable, "-m", "lambdas", "search", "x"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **NO_IGDB, "DATA_DIR": str(tmp_path), "COLUMNS": "120"},
    )
    assert done.returncode == 78
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_the_suite_does_not_see_the_callers_terminal() -> None:
    """tests/conftest.py drops what a shell exports for its terminal (COLUMNS, colours)."""
    assert not {"COLUMNS", "LINES", "TERM", "FORCE_COLOR", "NO_COLOR"} & set(os.environ)


def test_igdb_commands_without_igdb_say_how_to_start_the_emulator(tmp_path: Path) -> None:
    env = {**NO_IGDB, "DATA_DIR": str(tmp_path)}
    (tmp_path / "steam-import.db").touch()  # after the demo, the local database is there
    for args in (
        ["search", "Portal", "--json"],
        ["link", "--user-id", "demo-user", "--app-id", "1", "--igdb-id", "2", "--json"],
        ["keep", "--user-id", "demo-user", "--app-id", "1", "--json"],
    ):
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 78, result.output
        body = json.loads(result.stdout)
        assert body["error_code"] == "CONFIGURATION_ERROR"
        assert "IGDB_CLIENT_ID" in body["error"]
        assert "`steam-import sandbox` in another terminal" in body["error"]


def test_an_emulator_that_is_not_running_is_named(tmp_path: Path) -> None:
    env = {
        "IGDB_CLIENT_ID": "id",
        "IGDB_CLIENT_SECRET": "secret-value",
        "TWITCH_TOKEN_URL": "http://127.0.0.1:9/oauth2/token",  # nothing listens there
        "IGDB_API_BASE_URL": "http://127.0.0.1:9/v4",
        "IGDB_MAX_ATTEMPTS": "1",
        "DATA_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(app, ["search", "Portal", "--json"], env=env)
    assert result.exit_code == 75
    body = json.loads(result.stdout)
    assert body["error_code"] == "UPSTREAM_UNAVAILABLE"
    assert "is the emulator running? Start it with `steam-import sandbox`" in body["error"]


def test_an_emulator_refusing_twice_is_configuration_with_the_hint(tmp_path: Path) -> None:
    """With the default attempts, a refused loopback IGDB is a configuration fault after one
    retry (five before, about 25 s), still with the hint."""
    env = {
        "IGDB_CLIENT_ID": "id",
        "IGDB_CLIENT_SECRET": "secret-value",
        "TWITCH_TOKEN_URL": "http://127.0.0.1:9/oauth2/token",  # nothing listens there
        "IGDB_API_BASE_URL": "http://127.0.0.1:9/v4",
        "RETRY_INITIAL_WAIT_SECONDS": "0.001",
        "DATA_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(app, ["search", "Portal", "--json"], env=env)
    assert result.exit_code == 78, result.output
    body = json.loads(result.stdout)
    assert body["error_code"] == "CONFIGURATION_ERROR"
    assert "TWITCH_TOKEN_URL" in body["error"]
    assert "is the emulator running? Start it with `steam-import sandbox`" in body["error"]
    assert [line for line in result.stderr.splitlines() if "http.retry" in line][1:] == []


def test_progress_shows_a_count_only_once_it_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    monkeypatch.setattr(_output, "stdout", terminal)
    with _output.stage_progress("Importing", enabled=True) as report:
        shown_before = screen.getvalue()
        report("steam", 0, 3)
    assert "Importing" in shown_before
    assert "0/?" not in screen.getvalue()  # shown until the first stage began
    assert "0/3" in screen.getvalue()


@pytest.mark.parametrize(
    ("game_type", "words"),
    [(0, "main game"), (1, "dlc addon"), (11, "port"), (99, "type 99"), (None, None)],
)
def test_game_types_in_words(game_type: int | None, words: str | None) -> None:
    assert game_type_name(game_type) == words


def _printed(result: PipelineResult, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(_render, "stdout", Console(file=out, width=200))
    monkeypatch.setattr(_render, "stderr", Console(file=err, width=200))
    _render.print_import_summary(result, title="Import")
    return out.getvalue(), err.getvalue()


def _counts(table: str) -> dict[str, str]:
    rows = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if len(cells) == 2 and cells[0]:
            rows[cells[0]] = cells[1]
    return rows


def test_a_run_where_nothing_succeeded_prints_no_table(monkeypatch: pytest.MonkeyPatch) -> None:
    failed = SteamImportResponse(success=False, error="the profile is private", error_code="X")
    result = PipelineResult(user_id="u", import_id="i", runs=[StageRun(Stage.STEAM, failed, 0.3)])
    out, err = _printed(result, monkeypatch)
    assert out == ""
    assert "X" in err and "the profile is private" in err


def test_the_summary_of_a_second_run_adds_up(monkeypatch: pytest.MonkeyPatch) -> None:
    stats = EnrichmentStats(
        processed=500,
        matched=281,
        unmatched=58,
        filtered=161,
        matched_by_title=3,
        reused=330,
        filtered_by_kind={"DLC": 100, "SOUNDTRACK": 61},
        filtered_by_reason={
            "steam_type=4": 148,
            "steam_type=4 + name:soundtrack_suffix": 2,  # the store's verdict, the name's kind
            "name:soundtrack": 7,
            "steam_type=0 + igdb silent + name:soundtrack_suffix + store_parent": 4,
        },
    )
    result = PipelineResult(
        user_id="u",
        import_id="i",
        runs=[
            StageRun(Stage.STEAM, SteamImportResponse(success=True, game_count=500), 0.3),
            StageRun(Stage.ENRICH, IgdbEnrichmentResponse(success=True, stats=stats), 0.1),
            StageRun(
                Stage.LOAD,
                DatabaseImportResponse(success=True, stats=ImportStats(imported_games_updated=9)),
                0.4,
            ),
        ],
    )
    rows = _counts(_printed(result, monkeypatch)[0])
    assert rows["apps in the Steam library"] == "500"
    assert 281 + int(rows["games unmatched"]) + int(rows["filtered as non-games"]) == 500
    assert rows["games matched to IGDB"] == "281 (3 by title)"
    assert rows["games (matched + unmatched)"] == "339"
    assert (
        int(rows["decided this run"]) + int(rows["reused from the last import (not asked again)"])
        == 339
    )
    assert (
        rows["filtered as non-games, by kind"] == rows["filtered as non-games, decided by"] == "161"
    )
    assert int(rows["dlc"]) + int(rows["soundtrack"]) == 161
    assert rows["Steam store type"] == "150" and rows["name alone"] == "7"
    assert rows["clues where Steam says game and IGDB is silent"] == "4"
    assert rows["filtered by weaker evidence than a type (see `filtered`)"] == "11"
    assert rows["imported games updated"] == "9"


@pytest.mark.parametrize(
    "args",
    [
        ("unmatched", "--user-id", "u1"),
        ("filtered", "--user-id", "u1"),
        ("ignore", "--user-id", "u1", "--app-id", "10"),
        ("keep", "--user-id", "u1", "--app-id", "10"),
        ("link", "--user-id", "u1", "--app-id", "10", "--igdb-id", "5"),
        ("sync",),
    ],
)
def test_reading_a_local_database_that_does_not_exist_says_how_to_make_one(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    data = tmp_path / "nowhere"
    result = CliRunner().invoke(
        app, [*args, "--json"], env={"DATA_DIR": str(data), "DATABASE_URL": None, **NO_IGDB}
    )
    assert result.exit_code == 78, result.output
    body = json.loads(result.stdout)
    assert body["error_code"] == "CONFIGURATION_ERROR"
    assert "steam-import demo" in body["error"] and str(data) in body["error"]
    assert not data.exists()  # nothing created on the way
