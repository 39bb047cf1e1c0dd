"""The in-process TTL cache: expiry per entry, None cached, and bounded size at 100,000 entries."""

from __future__ import annotations

from lambdas.clients.cache import TtlCache
from lambdas.clients.igdb import PROCESS_CACHE_ENTRIES, ProcessCaches


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_at_their_own_time_and_none_is_a_value() -> None:
    clock = Clock()
    cache: TtlCache[str, str | None] = TtlCache(ttl=10, clock=clock)
    cache.put("answer", None)  # a negative answer is worth caching too
    cache.put("token", "abc", ttl=100)
    assert cache.get("answer") == (True, None)
    assert cache.get("missing") == (False, None)
    clock.now += 10
    assert cache.get("answer") == (False, None)
    assert cache.get("token") == (True, "abc")
    clock.now += 90
    assert cache.get("token") == (False, None)
    assert (cache.hits, cache.misses) == (2, 3)
    assert len(cache) == 0


def test_a_put_without_lifetime_stores_nothing_and_forgets_the_old_value() -> None:
    cache: TtlCache[str, str] = TtlCache(ttl=0, clock=Clock())
    cache.put("token", "old", ttl=60)
    cache.put("token", "new")  # the cache's own ttl, 0: not kept
    assert cache.get("token") == (False, None)


def test_a_full_cache_of_100000_entries_drops_expired_then_least_recent() -> None:
    """At size, each put makes room without scanning every entry (the old cache took ~2.8 s
    per 1,000 puts here; cachetools' heap makes it logarithmic). Behaviour checked at scale."""
    size = 100_000
    clock = Clock()
    cache: TtlCache[int, int] = TtlCache(ttl=3600, max_entries=size, clock=clock)
    for key in range(size):
        cache.put(key, key, ttl=1 if key % 2 else 3600)  # odd keys expire soon
    assert len(cache) == size
    assert cache.get(0) == (True, 0)  # 0 is now the most recently used

    clock.now += 2  # half the entries have expired
    for key in range(size, size + size // 2):
        cache.put(key, key)
    assert len(cache) == size  # the expired ones made room; no live entry was dropped
    assert all(cache.get(key) == (True, key) for key in range(0, size, 2))
    assert all(cache.get(key)[0] is False for key in range(1, size, 2))

    for key in range(size + size // 2, 2 * size + size // 2):  # another full cache's worth
        cache.put(key, key)
    assert len(cache) == size
    assert cache.get(size) == (False, None)  # the least recently used went first
    assert cache.get(2 * size + size // 2 - 1) == (True, 2 * size + size // 2 - 1)


def test_a_process_keeps_a_bounded_number_of_igdb_answers() -> None:
    """A warm container that served a whale keeps only the most recent answers, not 20,000."""
    caches = ProcessCaches(ttl=3600)
    for app_id in range(PROCESS_CACHE_ENTRIES + 3_000):
        caches.apps.put(app_id, ())
        caches.titles.put(f"title {app_id}", ())

    assert len(caches.apps) == len(caches.titles) == PROCESS_CACHE_ENTRIES
    assert caches.apps.get(PROCESS_CACHE_ENTRIES + 2_999) == (True, ())
    assert caches.apps.get(0) == (False, None)


def test_put_many_leaves_what_puts_one_by_one_leave() -> None:
    """Only the last `max_entries` of a batch are stored: the earlier ones would be evicted by
    them, and what was cached before is evicted just the same."""
    clock = Clock()
    one_by_one: TtlCache[int, str] = TtlCache(ttl=10, max_entries=5, clock=clock)
    batched: TtlCache[int, str] = TtlCache(ttl=10, max_entries=5, clock=clock)
    for cache in (one_by_one, batched):
        cache.put(-1, "before")
    items = [(key, f"v{key}") for key in range(12)]
    for key, value in items:
        one_by_one.put(key, value)
    batched.put_many(items)
    for key in [-1, *range(12)]:
        assert batched.get(key) == one_by_one.get(key)
    assert [key for key in range(12) if batched.holds(key)] == [7, 8, 9, 10, 11]
    clock.now += 10  # the cache's own ttl applies
    assert not any(batched.holds(key) for key in range(12))


def test_put_many_with_room_to_spare_keeps_everything_and_the_old_entries() -> None:
    cache: TtlCache[int, str] = TtlCache(ttl=10, max_entries=100, clock=Clock())
    cache.put(-1, "before")
    cache.put_many([(key, "x") for key in range(3)])
    assert len(cache) == 4
    cache.put_many([])
    assert len(cache) == 4
