"""The shared app cache on SQLite and PostgreSQL: what is written reads back the same, across
its statement chunks, with one statement per chunk, and fresh answers replace stale ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from lambdas.models.app_cache import IgdbAnswer
from lambdas.models.igdb import IgdbGame
from lambdas.models.steam_store import StoreDetails, StoreType
from lambdas.sql.engine import create_engine
from lambdas.state import app_cache
from lambdas.state.app_cache import SqlAppCache

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _types(count: int) -> list[StoreType]:
    return [
        StoreType(
            app_id,
            None if app_id % 7 == 0 else app_id % 5,  # unknown to the store, or a type
            app_id - 1 if app_id % 3 == 0 else None,
            StoreDetails(is_free=app_id % 2 == 0, tags=(app_id, 9), players=(1,), features=()),
        )
        for app_id in range(100, 100 + count)
    ]


def _answers(count: int) -> dict[int, IgdbAnswer]:
    return {
        app_id: (
            IgdbAnswer((IgdbGame(id=app_id * 10, name=f"Game “{app_id}”", slug=f"g{app_id}"),))
            if app_id % 2
            else IgdbAnswer((), f"Name {app_id}", ())
        )
        for app_id in range(100, 100 + count)
    }


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    return seen


def _on_the_cache(statements: list[str]) -> list[str]:
    """The statements that read or write the cache (not SQLite's BEGIN IMMEDIATE)."""
    return [statement for statement in statements if "app_cache" in statement]


@pytest.fixture
def cache_engine(private_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setattr(app_cache, "CHUNK", 4)
    engine = create_engine(private_db_url)
    yield engine  # type: ignore[misc]
    engine.dispose()


def test_types_and_answers_read_back_the_same_across_chunks(cache_engine: Engine) -> None:
    cache = SqlAppCache(cache_engine)
    types, answers = _types(10), _answers(9)
    statements = _statements(cache_engine)
    cache.put_types(types, now=NOW)
    cache.put_igdb(answers, now=NOW)
    assert len(_on_the_cache(statements)) == 3 + 3  # ⌈10 / 4⌉, ⌈9 / 4⌉: a statement a chunk

    statements.clear()
    asked = [app.app_id for app in types] + [99, 100]  # one never stored, one asked twice
    found = cache.get_types(asked, fresh_since=NOW - DAY)
    assert found == {app.app_id: app for app in types}
    assert found[105].details == types[5].details  # the store's own data comes back too
    assert len(_on_the_cache(statements)) == 3  # 11 distinct ids, ⌈11 / 4⌉

    got = cache.get_igdb(list(answers), now=NOW, positive_ttl=DAY, negative_ttl=DAY)
    assert got == answers


def test_a_later_answer_replaces_an_earlier_one_and_age_is_judged(cache_engine: Engine) -> None:
    cache = SqlAppCache(cache_engine)
    cache.put_types([StoreType(100, 4, 7), StoreType(101, 0)], now=NOW - 3 * DAY)
    cache.put_types([StoreType(100, 0, None, StoreDetails())], now=NOW)

    found = cache.get_types([100, 101], fresh_since=NOW - DAY)
    assert found == {100: StoreType(100, 0, None, StoreDetails())}  # 101 is stale
    stale = cache.get_types([101], fresh_since=NOW - 4 * DAY)
    assert stale == {}  # stored before the store's own data was kept: asked again

    game = IgdbGame(id=5, name="Five", slug="five")
    cache.put_igdb({100: IgdbAnswer((), "Old", ())}, now=NOW - 2 * DAY)
    cache.put_igdb({100: IgdbAnswer((game,))}, now=NOW)
    assert cache.get_igdb([100], now=NOW, positive_ttl=DAY, negative_ttl=DAY) == {
        100: IgdbAnswer((game,))
    }
    # A negative answer older than its window is not an answer.
    cache.put_igdb({101: IgdbAnswer(())}, now=NOW - 2 * DAY)
    assert cache.get_igdb([101], now=NOW, positive_ttl=3 * DAY, negative_ttl=DAY) == {}
