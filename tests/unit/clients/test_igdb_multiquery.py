"""IGDB's /multiquery protocol: planning, request bodies and answers, without any network."""

from __future__ import annotations

import json

import pytest

from lambdas.clients.igdb_multiquery import (
    LIMIT,
    MAX_KEYS_PER_SUBQUERY,
    collect_external,
    id_subqueries,
    plan_chunks,
    read_answers,
    request_body,
    spread,
    steam_subquery,
    title_subquery,
)
from lambdas.errors import UpstreamUnavailableError
from lambdas.models.igdb import ExternalGame, IgdbGame


@pytest.mark.parametrize(
    ("count", "chunks"),
    [(0, 0), (1, 1), (MAX_KEYS_PER_SUBQUERY, 1), (MAX_KEYS_PER_SUBQUERY + 1, 2), (4500, 10)],
)
def test_plan_chunks(count: int, chunks: int) -> None:
    assert plan_chunks(count) == chunks


def test_spread_keeps_order_and_evens_out() -> None:
    items = list(range(451))
    parts = spread(items, plan_chunks(len(items)))
    assert [len(part) for part in parts] == [226, 225]
    assert [item for part in parts for item in part] == items
    assert spread([], 0) == []


def test_request_body_names_each_subquery_and_pages_by_offset() -> None:
    first = steam_subquery(0, [10, 20], source=1)
    body = request_body([first, title_subquery(1, ['Say "Hi"']), first.next_page()])
    blocks = body.split("\n")
    assert len(blocks) == 3
    assert 'query external_games "steam-0-0"' in blocks[0]
    assert 'uid = ("10","20")' in blocks[0] and "external_game_source = 1" in blocks[0]
    assert f"limit {LIMIT}" in blocks[0] and "sort id asc" in blocks[0]
    assert 'query games "title-1-0"' in blocks[1] and r"Say \"Hi\"" in blocks[1]
    assert f'"steam-0-{LIMIT}"' in blocks[2] and f"offset {LIMIT}" in blocks[2]


def test_id_subqueries_chunk_by_the_row_limit() -> None:
    subqueries = id_subqueries(list(range(1, 1202)))
    assert [sub.key for sub in subqueries] == [("games", 0), ("games", 1), ("games", 2)]


def test_answers_parse_into_models_in_batch_order() -> None:
    batch = [steam_subquery(0, [10], source=1), title_subquery(1, ["Portal"])]
    content = json.dumps(
        [
            {"name": "steam-0-0", "result": [{"id": 1, "uid": "10", "game": {"id": 5}}]},
            {"name": "title-1-0", "result": [{"id": 7, "name": "Portal"}]},
        ]
    ).encode()
    steam_rows, title_rows = read_answers(batch, content)
    assert isinstance(steam_rows[0], ExternalGame) and steam_rows[0].game is not None
    assert isinstance(title_rows[0], IgdbGame) and title_rows[0].name == "Portal"


def test_a_malformed_row_falls_back_to_row_by_row_and_is_skipped() -> None:
    batch = [steam_subquery(0, [10, 20], source=1)]
    content = json.dumps(
        [
            {
                "name": "steam-0-0",
                "result": [{"id": "not a number", "uid": "10"}, {"id": 2, "uid": "20", "game": 9}],
            }
        ]
    ).encode()
    (rows,) = read_answers(batch, content)
    found: dict[int, list[IgdbGame]] = {10: [], 20: []}
    for row in rows:
        collect_external(row, found)
    assert found[10] == [] and [game.id for game in found[20]] == [9]


@pytest.mark.parametrize(
    ("content", "text"),
    [(b"<html>502</html>", "unreadable"), (b'[{"name": "a", "result": []}]', "1 of 2")],
)
def test_unreadable_or_short_answers_are_transient(content: bytes, text: str) -> None:
    batch = [title_subquery(0, ["a"]), title_subquery(1, ["b"])]
    with pytest.raises(UpstreamUnavailableError, match=text):
        read_answers(batch, content)
