"""What a user's last committed import was: the state a re-import compares today's fetch with.

Stage 3 stores it (`imports/{user}/state.json`) only after its transaction committed, so a failed
or interrupted import never advances it. Stage 1 reads it to tell an unchanged library (nothing
to do: stages 2 and 3 are skipped), stage 2 to find the apps that changed (only those are decided
again and sent to the database). Each per-user input has its own fingerprint under `inputs`
(`library`: the owned apps; `mode`: IMPORT_MODE; `wishlist`: the wishlisted apps), so a new input
is one more key. A wishlist that was not fetched (the call failed, or IMPORT_WISHLIST is off)
keeps the committed wishlist fingerprint: not fetched is not "empty".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from itertools import chain
from operator import attrgetter

from lambdas.models.events import STATE_VERSION, LibraryState, ReuseWindows
from lambdas.models.rows import RawGameRow, WishlistRow

__all__ = [
    "COMPARED_COLUMNS",
    "LIBRARY",
    "MODE",
    "STATE_VERSION",
    "WISHLIST",
    "LibraryState",
    "ReuseWindows",
    "app_key",
    "current_inputs",
    "fingerprint",
    "library_fingerprint",
    "record_key",
    "wishlist_fingerprint",
    "wishlist_input",
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
WISHLIST = "wishlist"
#: A wishlist outcome whose rows are the wishlist (an empty or private one has none); any other
#: (skipped: the call failed; off) says nothing of it.
WISHLIST_SEEN = frozenset({"imported", "empty", "private"})


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
    # The number of keys, then every cell, joined by NUL: unambiguous while no cell holds a NUL
    # (stored text never does; counted, not assumed), as every key of one kind has the same
    # number of cells. Else the repr of the tuples (every cell quoted and escaped), slower.
    text = "\x00".join(chain((str(len(ordered)),), chain.from_iterable(ordered)))
    if text.count("\x00") != sum(map(len, ordered)):
        text = repr(ordered)
    return _digest(text)


def fingerprint_of_joined(keys: Sequence[str], cells: int) -> str | None:
    """`fingerprint` of keys given as their cells already joined by NUL (`cells` a key), or
    None when a cell holds a NUL itself (then only the tuples tell the keys apart).

    The same text, so the same hash: NUL sorts below every other character, so joined keys
    sort as their tuples do, and the text is the keys joined again. One string a key instead
    of a tuple of strings (a 20,000-app library: 10 ms instead of 40).
    """
    ordered = sorted(keys)
    text = "\x00".join([str(len(ordered)), *ordered])
    if text.count("\x00") != len(ordered) * cells:
        return None
    return _digest(text)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def wishlist_fingerprint(rows: Iterable[WishlistRow]) -> str:
    """One hash of the wishlisted apps as stored (added, removed, bought, renamed, reordered)."""
    return fingerprint(
        (str(row.appid), row.name, str(row.priority), str(row.date_added), str(row.owned))
        for row in rows
    )


def current_inputs(library: str, *, mode: str, wishlist: str | None = None) -> dict[str, str]:
    """Today's per-user inputs as the state records them (`wishlist`: None when unknown, and
    then no key; callers pass the committed one to keep it)."""
    inputs = {LIBRARY: library, MODE: mode}
    if wishlist is not None:
        inputs[WISHLIST] = wishlist
    return inputs


def wishlist_input(
    outcome: str | None, rows: Iterable[WishlistRow], committed: LibraryState | None
) -> str | None:
    """The wishlist's fingerprint for the state: of `rows` when stage 1 saw the wishlist
    (`outcome` in WISHLIST_SEEN), else the committed one (a wishlist not fetched is unchanged,
    not empty); None when there is neither."""
    if outcome in WISHLIST_SEEN:
        return wishlist_fingerprint(rows)
    return committed.inputs.get(WISHLIST) if committed is not None else None
