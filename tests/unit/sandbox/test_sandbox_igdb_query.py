"""The sandbox's IGDB query engine over a tiny hand-made store: operators, projection, paging."""

from __future__ import annotations

from typing import Any

import pytest

from steam_sandbox.apicalypse import ApicalypseError, parse_query
from steam_sandbox.igdb_query import QueryEngine
from steam_sandbox.igdb_store import IgdbStore

TABLES: dict[str, list[dict[str, Any]]] = {
    "games": [
        {
            "id": 1,
            "name": "Portal",
            "slug": "portal",
            "genres": [9, 5],
            "cover": 10,
            "first_release_date": 1_192_000_000,
            "game_type": 0,
            "category": 0,
            "platforms": [6],
        },
        {
            "id": 2,
            "name": "Portal 2",
            "slug": "portal-2",
            "genres": [9],
            "cover": 11,
            "first_release_date": 1_303_000_000,
            "game_type": 0,
            "category": 0,
            "platforms": [6, 14],
        },
        {
            "id": 3,
            "name": "portal stories",
            "slug": "portal-stories",
            "genres": [5, 9, 31],
            "game_type": 5,
            "parent_game": 2,
            "category": 5,
        },
        {"id": 4, "name": 'Say "Hi", Back\\Slash', "slug": "say-hi", "game_type": 0},
        {
            "id": 5,
            "name": "Portal 2: Deluxe",
            "slug": "portal-2-deluxe",
            "genres": [9],
            "version_parent": 2,
            "game_type": 0,
        },
    ],
    "genres": [
        {"id": 5, "name": "Shooter", "slug": "shooter"},
        {"id": 9, "name": "Puzzle", "slug": "puzzle"},
        {"id": 31, "name": "Adventure", "slug": "adventure"},
    ],
    "covers": [
        {
            "id": 10,
            "image_id": "co1",
            "url": "//images.igdb.com/igdb/image/upload/t_thumb/co1.jpg",
            "game": 1,
            "animated": False,
        },
        {
            "id": 11,
            "image_id": "co2",
            "url": "//images.igdb.com/igdb/image/upload/t_thumb/co2.jpg",
            "game": 2,
            "animated": True,
        },
    ],
    "platforms": [
        {"id": 6, "name": "PC (Microsoft Windows)", "platform_type": 6},
        {"id": 14, "name": "Mac", "platform_type": 6},
    ],
    "platform_types": [{"id": 6, "name": "computer"}],
    "external_games": [
        {"id": 100, "uid": "400", "game": 1, "external_game_source": 1, "category": 1},
        {"id": 101, "uid": "620", "game": 2, "external_game_source": 1, "category": 1},
        {"id": 102, "uid": "620", "game": 5, "external_game_source": 1, "category": 1},
        {"id": 103, "uid": "620", "game": 1, "external_game_source": 5, "category": 5},
    ],
}


@pytest.fixture(scope="module")
def engine() -> QueryEngine:
    return QueryEngine(IgdbStore(TABLES))


def ids(engine: QueryEngine, endpoint: str, text: str) -> list[int]:
    return [row["id"] for row in engine.run(endpoint, parse_query(text + " limit 500;"))]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("id = 2", [2]),
        ("id = (1,3,99)", [1, 3]),
        ("id != 2", [1, 3, 4, 5]),
        ("id = !(1,2)", [3, 4, 5]),
        ("id != (1,2)", [3, 4, 5]),
        ('name = "Portal"', [1]),
        ('name = "portal"', []),
        ('name ~ "portal"', [1]),
        ('name = "Portal"*', [1, 2, 5]),
        ('name ~ "portal"*', [1, 2, 3, 5]),
        ('name = *"2"', [2]),
        ('name ~ *"STORIES"', [3]),
        ('name = *"tal 2"*', [2, 5]),
        ('name != "Portal"*', [3, 4]),
        ('name = "Say \\"Hi\\", Back\\\\Slash"', [4]),
        ("first_release_date > 1200000000", [2]),
        ("first_release_date >= 1192000000", [1, 2]),
        ("first_release_date < 1200000000", [1]),
        ("first_release_date <= 1303000000", [1, 2]),
        ("first_release_date = null", [3, 4, 5]),
        ("first_release_date != n", [1, 2]),
        ("cover = null", [3, 4, 5]),
        ("genres = 5", [1, 3]),
        ("genres = (5,31)", [1, 3]),
        ("genres = [9,5]", [1, 3]),
        ("genres = {9,5}", [1]),
        ("genres = ![9,5]", [2, 4, 5]),
        ("genres = !(5)", [2, 4, 5]),
        ("genres = null", [4]),
        ("game_type = 0 & version_parent = null", [1, 2, 4]),
        ("game_type = 5 | version_parent != null", [3, 5]),
        ("!(game_type = 0)", [3]),
        ("game_type = 0 & (genres = 5 | id = 4)", [1, 4]),
        ('genres.name = "Adventure"', [3]),
        ('cover.image_id = ("co2")', [2]),
        ("cover.animated = true", [2]),
        ("cover.animated = f", [1]),
        ("parent_game.first_release_date > 1300000000", [3]),
    ],
)
def test_where_operators(engine: QueryEngine, where: str, expected: list[int]) -> None:
    assert ids(engine, "games", f"fields id; where {where};") == expected


def test_uid_lookup_uses_strings_and_returns_every_row(engine: QueryEngine) -> None:
    rows = engine.run(
        "external_games",
        parse_query('fields uid,game.name; where external_game_source = 1 & uid = ("620","400");'),
    )

    assert [(r["uid"], r["game"]["name"]) for r in rows] == [
        ("400", "Portal"),
        ("620", "Portal 2"),
        ("620", "Portal 2: Deluxe"),
    ]


def test_nested_expansion_to_any_depth(engine: QueryEngine) -> None:
    [row] = engine.run(
        "external_games",
        parse_query(
            "fields game.cover.image_id, game.genres.name, game.platforms.platform_type.name;"
            " where id = 100;"
        ),
    )

    assert row == {
        "id": 100,
        "game": {
            "id": 1,
            "cover": {"id": 10, "image_id": "co1"},
            "genres": [{"id": 9, "name": "Puzzle"}, {"id": 5, "name": "Shooter"}],
            "platforms": [
                {"id": 6, "platform_type": {"id": 6, "name": "computer"}},
            ],
        },
    }


def test_reference_without_expansion_is_an_id(engine: QueryEngine) -> None:
    [row] = engine.run("games", parse_query("fields cover, genres, game_type; where id = 1;"))

    assert row == {"id": 1, "cover": 10, "genres": [9, 5], "game_type": 0}


def test_star_exclude_and_nested_star(engine: QueryEngine) -> None:
    [row] = engine.run(
        "games", parse_query("fields *, genres.*; exclude slug, first_release_date; where id = 3;")
    )

    assert "slug" not in row
    assert "first_release_date" not in row
    assert "category" not in row  # omitted by default
    assert row["parent_game"] == 2
    assert row["genres"][0] == {"id": 5, "name": "Shooter", "slug": "shooter"}


def test_absent_fields_are_omitted_and_id_is_always_present(engine: QueryEngine) -> None:
    rows = engine.run("games", parse_query("fields cover; where id = (1,4);"))

    assert rows == [{"id": 1, "cover": 10}, {"id": 4}]


def test_default_limit_sort_and_offset(engine: QueryEngine) -> None:
    assert len(engine.run("games", parse_query(""))) == 5
    assert ids(engine, "games", "fields id; sort first_release_date desc;")[:2] == [2, 1]
    assert ids(engine, "games", "fields id; sort name asc;")[0] == 1
    assert ids(engine, "games", "fields id; sort id desc; offset 1;") == [4, 3, 2, 1]
    assert [r["id"] for r in engine.run("games", parse_query("fields id; limit 2; offset 3;"))] == [
        4,
        5,
    ]


def test_search_ranks_exact_then_prefix(engine: QueryEngine) -> None:
    assert ids(engine, "games", 'search "portal 2"; fields name;') == [2, 5]
    assert ids(engine, "games", 'search "portal";') == [1, 2, 3, 5]
    assert ids(engine, "games", 'search "stories";') == [3]


def test_count(engine: QueryEngine) -> None:
    assert engine.count("games", parse_query('where name ~ "portal"*;')) == 4
    assert engine.count("external_games", parse_query('where uid = "620";')) == 3


@pytest.mark.parametrize(
    ("endpoint", "text", "title", "cause"),
    [
        ("games", "fields checksums;", "Invalid Field", "Invalid field name: 'checksums'"),
        ("games", "fields name.first;", "Invalid Field", "name.first"),
        ("games", "fields genres.nope;", "Invalid Field", "genres.nope"),
        ("games", "where nope = 1;", "Invalid Field", "nope"),
        ("games", "exclude nope;", "Invalid Field", "nope"),
        ("games", "sort nope;", "Invalid Field", "nope"),
        ("external_games", "where uid = 620;", "Syntax Error", "Expecting a STRING as input"),
        ("external_games", "where uid = (620);", "Syntax Error", "Expecting a STRING as input"),
        ("games", 'where id = "5";', "Syntax Error", "NUMBER"),
        ("games", 'where name > "a";', "Syntax Error", "needs a number"),
        ("games", 'where id = "a"*;', "Syntax Error", "string field"),
        ("games", "sort genres;", "Syntax Error", "list field"),
        ("genres", 'search "x";', "Syntax Error", "Search"),
    ],
)
def test_query_errors(
    engine: QueryEngine, endpoint: str, text: str, title: str, cause: str
) -> None:
    with pytest.raises(ApicalypseError) as caught:
        engine.run(endpoint, parse_query(text))

    assert caught.value.title == title
    assert cause in caught.value.cause


@pytest.mark.parametrize(
    ("mode", "rows", "error"),
    [
        ("omitted", [{"id": 100}], False),
        ("populated", [{"id": 100, "category": 1}], False),
        ("error", None, True),
    ],
)
def test_category_modes(mode: Any, rows: Any, error: bool) -> None:
    engine = QueryEngine(IgdbStore(TABLES), mode)
    query = parse_query("fields category; where id = 100;")

    if error:
        with pytest.raises(ApicalypseError, match="category"):
            engine.run("external_games", query)
    else:
        assert engine.run("external_games", query) == rows


def test_filtering_on_an_omitted_category_matches_nothing() -> None:
    engine = QueryEngine(IgdbStore(TABLES), "omitted")

    assert engine.run("external_games", parse_query("where category = 1;")) == []
