"""The README's promises hold: every error code is documented with its kind and exit code, the
other exit codes are what the command line returns, and `--json` is where it says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from lambdas.cli import app
from lambdas.errors import InvalidArgumentError, all_error_types

README = Path(__file__).resolve().parents[2] / "README.md"


def _error_table() -> dict[str, tuple[str, int]]:
    return {
        match.group(1): (match.group(2), int(match.group(3)))
        for match in re.finditer(
            r"^\| `([A-Z_]+)` \| (permanent|transient) \| (\d+) \|", README.read_text(), re.M
        )
    }


def _other_exit_codes() -> dict[int, str]:
    """The `| exit | when |` table: exit codes the command line returns besides errors.py's."""
    text = README.read_text()
    table = text[text.index("| exit | when |") :].split("\n\n", 1)[0]
    return {
        int(match.group(1)): match.group(2)
        for match in re.finditer(r"^\| (\d+) \| (.+) \|$", table, re.M)
    }


def test_error_table_matches_errors_module() -> None:
    documented = _error_table()
    actual = {
        error.code: ("transient" if error.transient else "permanent", error.exit_code)
        for error in all_error_types()
    }
    assert sorted(set(actual) - set(documented)) == [], "codes missing from the README table"
    assert sorted(set(documented) - set(actual)) == [], "README codes errors.py does not have"
    assert documented == actual


def test_other_exit_codes_are_not_error_codes() -> None:
    """0, 1 and 2 are documented once, and no error class uses them (so a script can tell a
    usage error or a failed sync from a pipeline error)."""
    others = _other_exit_codes()
    assert sorted(others) == [0, 1, 2]
    assert {error.exit_code for error in all_error_types()}.isdisjoint(others)


runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["steam", "--user-id", "u"],  # a required option missing
        ["nosuch"],  # an unknown command
        ["link", "--user-id", "u", "--app-id", "0", "--igdb-id", "1"],  # out of range
        ["link", "--user-id", "u", "--app-id", "abc", "--igdb-id", "1"],  # not an integer
        ["-v", "-q", "unmatched", "--user-id", "u"],  # --verbose with --quiet
        ["demo", "--user", "nobody"],  # no such sandbox user
        ["steam", "--user-id", "u", "--steam", "76561197960287930", "--jsn"],  # unknown option
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_usage_errors_are_invalid_argument_with_json_when_asked(
    args: list[str], as_json: bool
) -> None:
    result = runner.invoke(app, [*args, "--json"] if as_json else args)
    assert result.exit_code == InvalidArgumentError.exit_code == 64, result.output
    if as_json:
        body = json.loads(result.stdout)
        assert body["success"] is False and body["error_code"] == "INVALID_ARGUMENT"
        assert "--help" in body["error"]
    else:
        assert "INVALID_ARGUMENT" in result.stderr and not result.stdout.lstrip().startswith("{")


def test_no_command_prints_the_help_and_exits_2() -> None:
    assert "help" in _other_exit_codes()[2]
    for args in ([], ["db"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        assert "Usage" in result.output


def test_version_exits_0() -> None:
    assert "success" in _other_exit_codes()[0]
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("steam-import ")


def _leaf_commands(group: Any, prefix: str = "") -> dict[str, Any]:
    """`name` → command, sub-commands as `db check` (Typer's click objects: groups have
    `commands`)."""
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.update(_leaf_commands(command, f"{prefix}{name} "))
        else:
            found[f"{prefix}{name}"] = command
    return found


def test_json_option_is_where_the_readme_says() -> None:
    """ "Every command except `sandbox` … takes `--json`": the exceptions named are exactly the
    commands without the option."""
    sentence = re.search(r"Every command except (.+?) \(", README.read_text(), re.S)
    assert sentence is not None
    named = set(re.findall(r"`([a-z ]+)`", sentence.group(1)))
    commands = _leaf_commands(typer.main.get_group(app))
    without_json = {
        name
        for name, command in commands.items()
        if not any("--json" in param.opts for param in command.params)
    }
    assert without_json == named


def test_every_command_is_in_the_readme_table() -> None:
    text = README.read_text()
    commands = _leaf_commands(typer.main.get_group(app))
    missing = [name for name in commands if f"`steam-import {name}" not in text]
    assert missing == []


def test_every_setting_is_documented() -> None:
    from lambdas.config import Settings

    text = README.read_text()
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert missing == []


ROOT = README.parent
#: "~10 s", "about 80 s" beside a command; "0.16 / 0.21 / 0.39 s" (per-stage times) anywhere.
_DURATION = re.compile(r"(~|about )\d+(\.\d+)? ?s\b")
_STAGE_TIMES = re.compile(r"\d\.\d+ / \d\.\d+ / \d\.\d+ s\b")


def test_durations_that_depend_on_the_machine_are_commands_not_figures() -> None:
    """Pit 11: the docs said `--smoke` takes ~10 s (18 s on a calm machine), the reliability
    suite about 80 s (214 s), and quoted cold imports of one machine as figures. Beside a command
    they give the command; dated measurement records (tables, "on 2026-…") may stay."""
    pages = [
        ROOT / "README.md",
        ROOT / "bench" / "README.md",
        *sorted((ROOT / "docs").glob("*.md")),
    ]
    found = [
        f"{page.relative_to(ROOT)}:{number}: {line.strip()}"
        for page in pages
        for number, line in enumerate(page.read_text().splitlines(), 1)
        if not line.lstrip().startswith("|")
        and (
            (("./run " in line or "-m bench" in line) and _DURATION.search(line))
            or (page.name == "deploy.md" and _STAGE_TIMES.search(line))
        )
    ]
    assert found == []
