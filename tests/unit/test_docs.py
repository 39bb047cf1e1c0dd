"""The README's promises hold: every error code is documented with its kind and exit code."""

from __future__ import annotations

import re
from pathlib import Path

from lambdas.errors import all_error_types

README = Path(__file__).resolve().parents[2] / "README.md"


def test_error_table_matches_errors_module() -> None:
    documented = {
        match.group(1): (match.group(2), int(match.group(3)))
        for match in re.finditer(
            r"^\| `([A-Z_]+)` \| (permanent|transient) \| (\d+) \|", README.read_text(), re.M
        )
    }
    actual = {
        error.code: ("transient" if error.transient else "permanent", error.exit_code)
        for error in all_error_types()
    }
    assert documented == actual


def test_every_setting_is_documented() -> None:
    from lambdas.config import Settings

    text = README.read_text()
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert missing == []
