"""`--version`, `--help` and a bare `steam-import` answer without importing the command line, and
the top-level help they print names what Typer knows, in Typer's words and order."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from lambdas import __version__
from lambdas.cli import _fast, app

HEAVY = ("typer", "rich", "click", "pydantic", "pydantic_settings", "sqlalchemy", "structlog")

PROBE = """
import sys
sys.argv = ["steam-import", *sys.argv[1:]]
from lambdas.__main__ import main
try:
    main()
except SystemExit as exc:
    code = exc.code
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))
sys.stderr.write(f"\\nEXIT {code} IMPORTED {heavy}\\n")
""".replace("HEAVY", repr(HEAVY))


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100"},
    )


@pytest.mark.parametrize(
    ("argv", "code", "stream"),
    [(["--version"], 0, "stdout"), (["--help"], 0, "stdout"), ([], 2, "stderr")],
)
def test_version_and_help_import_none_of_the_command_line(
    argv: list[str], code: int, stream: str
) -> None:
    done = _run(*argv)
    assert f"EXIT {code} IMPORTED []" in done.stderr, done.stderr
    printed = getattr(done, stream)
    if argv == ["--version"]:
        assert printed == f"steam-import {__version__}\n"
    else:
        assert "Usage: steam-import [OPTIONS] COMMAND [ARGS]..." in printed
        assert max(len(line) for line in printed.splitlines()) == 100  # COLUMNS, as Rich


def test_an_unknown_command_is_a_usage_error_without_typer() -> None:
    done = _run("bogus", "--user-id", "u")
    assert "EXIT 64 IMPORTED []" in done.stderr, done.stderr
    assert "error INVALID_ARGUMENT: No such command 'bogus'. (see `steam-import --help`)" in (
        done.stderr
    )
    as_json = _run("bogus", "--json")
    assert json.loads(as_json.stdout)["error_code"] == "INVALID_ARGUMENT"


def test_anything_else_goes_to_typer() -> None:
    done = _run("run", "--no-such-option")
    assert "EXIT 64" in done.stderr and "'typer'" in done.stderr, done.stderr
    assert "error INVALID_ARGUMENT: No such option: --no-such-option" in done.stderr


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").strip().split("\n\n")[0].split())


def test_the_fast_help_says_what_typer_says() -> None:
    group: Any = typer.main.get_command(app)
    context = group.make_context("steam-import", ["--help"], resilient_parsing=True)
    options = [
        (
            next(name for name in parameter.opts if name.startswith("--")),
            next((name for name in parameter.opts if not name.startswith("--")), ""),
            parameter.help,
        )
        for parameter in group.get_params(context)
    ]
    assert list(_fast.OPTIONS) == options
    commands = [
        (name, _first_paragraph(group.commands[name].help)) for name in group.list_commands(context)
    ]
    assert list(_fast.COMMANDS) == commands
    assert _first_paragraph(group.help) == _fast.DESCRIPTION


@pytest.mark.parametrize("width", [40, 80, 120])
def test_the_fast_help_fits_its_width_and_lists_every_command(width: int) -> None:
    text = _fast.render(width)
    assert all(len(line) <= width for line in text.splitlines())
    flat = " ".join(" ".join(line.strip("│ ").split()) for line in text.splitlines())
    for name, summary in _fast.COMMANDS:
        assert f"{name} " in flat and summary.split()[-1] in flat


def test_typer_still_answers_help_for_a_command() -> None:
    result = CliRunner().invoke(app, ["db", "--help"])
    assert result.exit_code == 0 and "check" in result.output
