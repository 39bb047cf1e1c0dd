"""`python -m lambdas` is the command line; without its extra it says how to install it."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_module_runs_the_command_line() -> None:
    completed = _run("-m", "lambdas", "--help")
    assert completed.returncode == 0, completed.stderr
    for command in ("run", "steam", "enrich", "load", "demo", "sandbox"):
        assert command in completed.stdout


def test_version_has_one_source() -> None:
    completed = _run("-m", "lambdas", "--version")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"steam-import {version('steam-library-import')}"


def test_missing_cli_extra_names_the_install_command() -> None:
    blocked = (
        "import sys; sys.modules['typer'] = None; "
        "from lambdas.__main__ import main; sys.argv = ['steam-import', 'run', '--help']; main()"
    )
    completed = _run("-c", blocked)
    assert completed.returncode == 78
    assert "steam-library-import[cli]" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_demo_without_the_emulator_says_how_to_install_it(tmp_path: Path) -> None:
    blocked = (
        "import sys; sys.modules['steam_sandbox'] = None; "
        "from lambdas.__main__ import main; sys.argv = ['steam-import', 'demo', '--json']; main()"
    )
    completed = subprocess.run(
        [sys.executable, "-c", blocked],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path / "data")},
    )
    assert completed.returncode == 78, completed.stderr
    assert '"error_code": "CONFIGURATION_ERROR"' in completed.stdout
    assert "steam-library-import[sandbox]" in completed.stdout
