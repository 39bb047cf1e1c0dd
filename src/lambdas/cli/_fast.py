"""`steam-import --version`, `--help` and an unknown command without importing the command line.

Typer, Rich, pydantic and SQLAlchemy take most of a second to import; the version and the list
of commands need none of them. The top-level help is rendered here, in the layout Typer gives it;
tests/unit/cli/test_fast_help.py checks that it names every option and command Typer knows, with
the same words. An unknown command is the usage error Typer would give. Every other command line
goes to Typer.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Sequence

DESCRIPTION = "Import a Steam library into the game-tracking app's database, enriched with IGDB."
USAGE = "Usage: steam-import [OPTIONS] COMMAND [ARGS]..."

#: (long name, short name, help) of the top-level options, in Typer's order.
OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("--version", "", "Print the version and exit."),
    ("--verbose", "-v", "Log every event (DEBUG) and show tracebacks of errors."),
    ("--quiet", "-q", "Log errors only; no progress display."),
    ("--install-completion", "", "Install completion for the current shell."),
    (
        "--show-completion",
        "",
        "Show completion for the current shell, to copy it or customize the installation.",
    ),
    ("--help", "", "Show this message and exit."),
)

#: (name, first paragraph of its help) of every command, in Typer's order.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("demo", "Import a sandbox user's library end to end: no account, key or server needed."),
    ("unmatched", "The review list: imported games no IGDB game was matched to, with candidates."),
    ("link", "Link an imported game to an IGDB game, exactly as if it had matched automatically."),
    ("ignore", "Ignore an imported game: it never enters the library, now or on later imports."),
    (
        "filtered",
        "The apps the last import left out as non-games, with kind and the reason for it.",
    ),
    (
        "keep",
        "Make a filtered app a game for good: matched or left for review like any other game.",
    ),
    ("search", "IGDB candidates for a title, to pick the id for `link`."),
    ("sync", "Re-import every user with a Steam account connected; one failure stops none."),
    (
        "sandbox",
        "Run the local Steam / Twitch / IGDB emulator until Ctrl-C; prints URLs, users, exports.",
    ),
    ("steam", "Stage 1: fetch a Steam library and store it as a raw CSV; prints its location."),
    (
        "enrich",
        "Stage 2: classify the apps of a raw CSV, match games to IGDB, store the enriched CSV.",
    ),
    ("load", "Stage 3: write an enriched CSV into the app's database in one transaction."),
    (
        "run",
        "The whole import: Steam → IGDB matching → database, as the state machine runs it.",
    ),
    ("db", "Create or upgrade this tool's schema; check any database stage 3 writes into."),
)

#: Off a terminal Rich renders Typer's help 80 columns wide; so does this.
DEFAULT_WIDTH = 80


def answer(argv: Sequence[str]) -> int | None:
    """Print the version or the top-level help when that is all `argv` asks for, and return the
    exit code; None when Typer has to parse `argv`."""
    if list(argv) == ["--version"]:
        sys.stdout.write(f"steam-import {_version()}\n")
        return 0
    if list(argv) == ["--help"]:
        sys.stdout.write(render(_width()))
        return 0
    if not argv:  # no command: the help, on stderr, with click's exit code for it
        sys.stderr.write(render(_width()))
        return 2
    first = argv[0]
    if not first.startswith("-") and first not in {name for name, _ in COMMANDS}:
        return _no_such_command(first, as_json="--json" in argv)
    return None


def _no_such_command(name: str, *, as_json: bool) -> int:
    """The usage error Typer gives an unknown command, in the project's error format."""
    import json

    from lambdas.errors import InvalidArgumentError

    message = f"No such command '{name}'. (see `steam-import --help`)"
    if as_json:
        body = {"success": False, "error_code": InvalidArgumentError.code, "error": message}
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
    else:
        sys.stderr.write(f"error {InvalidArgumentError.code}: {message}\n")
    return InvalidArgumentError.exit_code


def _version() -> str:
    """The installed distribution's version, read from its METADATA file: the one source
    `lambdas.__version__` reads through importlib.metadata, which first imports the email
    package and scans every installed distribution (a tenth of a second)."""
    prefix = "steam_library_import-"
    for entry in sys.path:
        try:
            names = [name for name in os.listdir(entry or ".") if name.startswith(prefix)]
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                try:
                    with open(os.path.join(entry, name, "METADATA"), encoding="utf-8") as file:
                        for line in file:
                            if line.startswith("Version:"):
                                return line.split(":", 1)[1].strip()
                except OSError:
                    continue
    from lambdas import __version__

    return __version__


def _width() -> int:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)  # as Rich: COLUMNS wins, terminal or not
    if sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return DEFAULT_WIDTH


def render(width: int) -> str:
    """The top-level help, in Typer's layout, `width` columns wide."""
    width = max(width, 40)
    lines = ["", *(f" {line}" for line in _wrap(USAGE, width - 2)), ""]
    lines += [f" {line}" for line in _wrap(DESCRIPTION, width - 2)]
    lines.append("")
    long_width = max(len(long) for long, _, _ in OPTIONS) + 2
    short_width = max(len(short) for _, short, _ in OPTIONS) + 8
    lines += _panel(
        "Options",
        [(f"{long:<{long_width}}{short:<{short_width}}", text) for long, short, text in OPTIONS],
        width,
    )
    name_width = max(len(name) for name, _ in COMMANDS) + 2
    lines += _panel("Commands", [(f"{name:<{name_width}}", text) for name, text in COMMANDS], width)
    return "".join(f"{line}\n" for line in lines)


def _panel(title: str, rows: list[tuple[str, str]], width: int) -> list[str]:
    inner = width - 4  # "│ " and " │"
    lines = [f"╭─ {title} " + "─" * (width - len(title) - 5) + "╮"]
    for left, text in rows:
        indent = len(left) if inner - len(left) >= 20 else 2  # narrow: the help goes below
        wrapped = _wrap(text, inner - indent)
        if indent != len(left):
            wrapped.insert(0, "")
        for index, part in enumerate(wrapped):
            head = left if index == 0 else " " * indent
            lines.append(f"│ {(head + part).rstrip():<{inner}} │")
    lines.append("╰" + "─" * (width - 2) + "╯")
    return lines


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_on_hyphens=False)
