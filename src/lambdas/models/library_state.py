"""What a user's last committed import was: the state a re-import compares today's fetch with.

Stage 3 stores it (`imports/{user}/state.json`) only after its transaction committed, so a failed
or interrupted import never advances it. Stage 1 reads it to tell an unchanged library (nothing
to do: stages 2 and 3 are skipped), stage 2 to find the apps that changed (only those are decided
again and sent to the database). Each per-user input has its own fingerprint under `inputs`
(`library`: the owned apps; `mode`: IMPORT_MODE), so a new input is one more key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from operator import attrgetter

from lambdas.models.events import STATE_VERSION, LibraryState, ReuseWindows
from lambdas.models.rows import RawGameRow

__all__ = [
    "COMPARED_COLUMNS",
    "LIBRARY",
    "MODE",
    "STATE_VERSION",
    "LibraryState",
    "ReuseWindows",
    "app_key",
    "current_inputs",
    "fingerprint",
    "library_fingerprint",
    "record_key",
]

#: The raw columns whose change reaches the database (ImportedGame's values, the LibraryItem's
#: platform) or the classification (the name). Steam's 2-week playtime moves every day without
#: play, and nothing stored depends on it or on the other columns, so they are not compared.
COMPARED_COLUMNS: tuple[str, ...] = (
    "appid",
    "name",
    "playtime_forever",
    "playtime_windows_forever",
    "playtime_mac_forever",
    "playtime_linux_forever",
    "playtime_deck_forever",
    "rtime_last_played",
    "img_icon_url",
)
LIBRARY = "library"
MODE = "mode"


_compared = attrgetter(*COMPARED_COLUMNS)


def app_key(row: RawGameRow) -> tuple[str, ...]:
    """The compared values of one app, as the CSV cells that hold them."""
    return tuple(map(str, _compared(row)))


def record_key(record: Sequence[str], indexes: Sequence[int]) -> tuple[str, ...]:
    """The compared cells of a stored CSV record (`indexes`: the compared columns' positions)."""
    return tuple(record[index] for index in indexes)


def library_fingerprint(rows: Iterable[RawGameRow]) -> str:
    """One hash of every app's compared values: equal exactly when no app was added, dropped
    or changed in a way the database or the classification sees."""
    return fingerprint(app_key(row) for row in rows)


def fingerprint(keys: Iterable[tuple[str, ...]]) -> str:
    """`library_fingerprint` of the apps' keys (`app_key`, or `record_key` of stored cells)."""
    ordered = sorted(keys)  # app ids are unique: the first cells differ
    # The repr of a tuple of str is unambiguous (every cell quoted and escaped).
    return hashlib.sha256(repr(ordered).encode("utf-8", "surrogatepass")).hexdigest()


def current_inputs(library: str, *, mode: str) -> dict[str, str]:
    """Today's per-user inputs as the state records them."""
    return {LIBRARY: library, MODE: mode}
