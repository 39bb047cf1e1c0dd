"""A small in-process TTL cache for IGDB answers (positive and negative) and tokens."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING = object()


class TtlCache(Generic[K, V]):
    """Entries expire `ttl` seconds after they were stored; `None` is a cacheable value."""

    def __init__(
        self, *, ttl: float, max_entries: int = 200_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> tuple[bool, V | None]:
        """(found, value): found is False when absent or expired."""
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return False, None
        self.hits += 1
        return True, entry[1]

    def put(self, key: K, value: V, *, ttl: float | None = None) -> None:
        if len(self._entries) >= self.max_entries:
            self._evict_expired_or_oldest()
        self._entries[key] = (self._clock() + (self.ttl if ttl is None else ttl), value)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _evict_expired_or_oldest(self) -> None:
        now = self._clock()
        for key in [key for key, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
