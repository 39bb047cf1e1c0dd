"""What text from upstream may hold: cleaning where it enters, checks where it is read back.

Lone surrogates cannot be written as UTF-8 and NUL cannot be stored in PostgreSQL text; bidi
embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069) can make a title read
differently from what it is. Right-to-left text itself, and the LRM/RLM marks it uses, is fine.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_BIDI_CONTROL = "\u202a-\u202e\u2066-\u2069"
#: Never in a title: C0 and C1 controls, DEL, bidi controls, lone surrogates.
FORBIDDEN_IN_TITLE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_CONTROL}\ud800-\udfff]")
#: Never in longer text (summaries): the same, except tab and line breaks.
_FORBIDDEN_IN_TEXT = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI_CONTROL}\ud800-\udfff]"
)
_DROPPED = re.compile(f"[\x00{_BIDI_CONTROL}]")


def _clean(value: str, forbidden: re.Pattern[str]) -> str:
    if not forbidden.search(value):
        return value  # the common case: nothing to do
    value = _SURROGATE.sub("\ufffd", _DROPPED.sub("", value))
    return forbidden.sub(" ", value)


def clean_title(value: str) -> str:
    """A name as a title may hold it: NUL and bidi controls dropped, lone surrogates replaced by
    U+FFFD, other control characters by a space."""
    return _clean(value, FORBIDDEN_IN_TITLE)


def clean_text(value: str) -> str:
    """`clean_title` for longer text, keeping tabs and line breaks."""
    return _clean(value, _FORBIDDEN_IN_TEXT)


def clean_steam_text(value: str) -> str:
    """Steam's own names, kept as close to verbatim as storage allows: only NUL is dropped and
    lone surrogates replaced (a CSV must encode it, PostgreSQL must store it)."""
    if storable_text(value):
        return value
    return _SURROGATE.sub("\ufffd", value.replace("\x00", ""))


def storable_text(value: str) -> bool:
    """Whether `clean_steam_text` keeps `value` as it is (one scan checks much text joined)."""
    return "\x00" not in value and not _SURROGATE.search(value)


def title_problem(value: str) -> str | None:
    """Why `value` cannot be a title, or None."""
    return _problem(value, FORBIDDEN_IN_TITLE)


def text_problem(value: str) -> str | None:
    """Why `value` cannot be a summary, or None."""
    return _problem(value, _FORBIDDEN_IN_TEXT)


def _problem(value: str, forbidden: re.Pattern[str]) -> str | None:
    found = forbidden.search(value)
    if found is None:
        return None
    return f"holds the control character U+{ord(found.group()):04X}"
