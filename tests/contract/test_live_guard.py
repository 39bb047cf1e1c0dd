"""The live suite's guard: which credentials count, and a live run without them stops at once,
naming what is missing, before any request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.contract.targets import (
    LIVE_VARIABLES,
    live_target,
    live_values,
    missing_live_variables,
)

ROOT = Path(__file__).resolve().parents[2]
COLLECT_ONLY = ("--collect-only", "-q", "-p", "no:cacheprovider")


def test_the_environment_wins_over_the_file_and_blanks_count_as_missing(tmp_path: Path) -> None:
    (tmp_path / ".env.integration").write_text(
        "STEAM_API_KEY=from-file\nIGDB_CLIENT_ID=id-from-file\nIGDB_CLIENT_SECRET=\n"
    )
    values = live_values(tmp_path, {"STEAM_API_KEY": "from-env", "LIVE_STEAM_ID": " "})
    assert values == {"STEAM_API_KEY": "from-env", "IGDB_CLIENT_ID": "id-from-file"}
    assert missing_live_variables(values) == ["IGDB_CLIENT_SECRET", "LIVE_STEAM_ID"]
    assert missing_live_variables(live_values(tmp_path / "absent", {})) == list(LIVE_VARIABLES)


def test_the_live_target_canonicalises_the_steam_id_and_hides_secrets() -> None:
    target = live_target(
        {
            "STEAM_API_KEY": "0123456789abcdef0123456789abcdef",
            "IGDB_CLIENT_ID": "client-id",
            "IGDB_CLIENT_SECRET": "client-secret-canary",
            "LIVE_STEAM_ID": "76561197960287930",
        }
    )
    assert target.library_steam_id == "76561197960287930"
    assert target.steam_base_url == "https://api.steampowered.com"
    shown = repr(target)
    assert "0123456789abcdef" not in shown and "client-secret-canary" not in shown


def test_a_live_run_without_credentials_names_them_and_sends_nothing() -> None:
    environ = {name: value for name, value in os.environ.items() if name not in LIVE_VARIABLES}
    missing = missing_live_variables(live_values(ROOT, environ))
    # --collect-only: should a developer's .env.integration hold everything, still no request.
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/contract", "-m", "live", *COLLECT_ONLY],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if not missing:
        assert finished.returncode == 0, finished.stdout + finished.stderr
        return
    assert finished.returncode == 4, finished.stdout + finished.stderr  # pytest's usage error
    errors = [line for line in finished.stderr.splitlines() if line.startswith("ERROR:")]
    assert errors == [
        f"ERROR: live tests need {', '.join(missing)}: set them in the environment or in "
        ".env.integration (see .env.integration.example)"
    ]
