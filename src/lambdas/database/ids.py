"""Collision-resistant, cuid-shaped ids for the Prisma columns declared `@id @default(cuid())`."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from functools import cache

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_BLOCK = 36**4
_randbits = secrets.randbits


_PAIRS = tuple(first + second for first in _ALPHABET for second in _ALPHABET)


def _base36(value: int, width: int) -> str:
    """The last `width` (even) base-36 digits of `value`, two digits per step."""
    pairs: list[str] = []
    for _ in range(width // 2):
        value, rest = divmod(value, 1296)
        pairs.append(_PAIRS[rest])
    return "".join(reversed(pairs))


class CuidGenerator:
    """Makes ids like ``cm1x2k3ab0001h7k2p9q4r8s1`` (25 characters); safe across threads.

    Prisma makes these ids in the client, not in the database, so a writer outside the app must
    make its own. The shape is Prisma's `cuid()` (version 1): ``c`` + time + counter +
    fingerprint + random, 25 lowercase base-36 characters, roughly sortable by creation time.
    The PyPI `cuid` package makes the same shape but is unmaintained (its author deprecated
    version 1), and `cuid2` makes a different shape with a SHA-3 per id, so this small generator
    is ours. Randomness comes from `secrets`.
    """

    def __init__(self, *, fingerprint: str | None = None) -> None:
        if fingerprint is None:
            host = sum(socket.gethostname().encode()) + 36
            fingerprint = _base36(os.getpid() % (36**2), 2) + _base36(host % (36**2), 2)
        self._fingerprint = fingerprint
        self._counter = secrets.randbelow(_BLOCK)
        self._lock = threading.Lock()
        self._stamp: tuple[int, str] = (-1, "")

    def __call__(self) -> str:
        # Written out (two base-36 digits per table look-up, no helper calls): a bulk import
        # makes ~40,000 ids, and this ran at 10 µs an id with `_base36`.
        with self._lock:
            counter = self._counter = (self._counter + 1) % _BLOCK
        millis = int(time.time() * 1000)
        stamp = self._stamp
        if stamp[0] != millis:  # thousands of ids share a millisecond in a bulk import
            stamp = self._stamp = (millis, "c" + _base36(millis, 8))
        pairs = _PAIRS
        high, low = divmod(counter, 1296)
        value = _randbits(42)
        value, d = divmod(value, 1296)
        value, c = divmod(value, 1296)
        value, b = divmod(value, 1296)
        return (
            stamp[1]
            + pairs[high % 1296]
            + pairs[low]
            + self._fingerprint
            + pairs[value % 1296]
            + pairs[b]
            + pairs[c]
            + pairs[d]
        )

    def many(self, count: int) -> list[str]:
        """`count` fresh ids."""
        return [self() for _ in range(count)]


@cache
def default_generator() -> CuidGenerator:
    """The process-wide generator (built on first use, not at import)."""
    return CuidGenerator()


def new_id() -> str:
    """One fresh cuid-shaped id."""
    return default_generator()()
