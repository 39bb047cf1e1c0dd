"""Enriched rows → per-table records: filtering, de-duplication, statuses, platforms, slugs."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime

import pytest
from tests.unit.db.factories import GENRES, row

from lambdas.database.payloads import (
    ImportPayload,
    build_payload,
    choose_platform,
    slugify,
    unix_to_timestamp,
)
from lambdas.database.profiles import StatusRule
from lambdas.errors import MalformedCsvError
from lambdas.models.rows import GenreRef, MatchStatus


def payload(rows: list, **statuses: str) -> ImportPayload:  # type: ignore[type-arg]
    counter = itertools.count()
    return build_payload(
        rows,
        new_id=lambda: f"id{next(counter)}",
        rule=StatusRule(
            unplayed=statuses.get("unplayed", "CURIOUS_ABOUT"),
            played=statuses.get("played", "EXPERIENCED"),
        ),
        now=datetime(2026, 1, 1),
    )


def test_filtered_rows_are_not_written() -> None:
    result = payload(
        [row(1), row(2, status=MatchStatus.FILTERED), row(3, status=MatchStatus.UNMATCHED)]
    )
    assert [r["storefrontGameId"] for r in result.imported_games] == ["1", "3"]
    assert [r["igdbMatchStatus"] for r in result.imported_games] == ["MATCHED", "UNMATCHED"]
    assert [g["igdbId"] for g in result.games] == [100_001]


def test_a_repeated_app_id_keeps_its_first_row() -> None:
    result = payload([row(5, name="first"), row(5, name="second")])
    assert [r["name"] for r in result.imported_games] == ["first"]


def test_matched_without_igdb_id_is_malformed() -> None:
    broken = row(1).model_copy(update={"igdb_id": None})
    with pytest.raises(MalformedCsvError):
        payload([broken])


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        ({}, None),
        ({"windows": 10}, "PC (Microsoft Windows)"),
        ({"windows": 10, "mac": 30}, "Mac"),
        ({"linux": 5, "deck": 50}, "Steam Deck"),
        ({"windows": 20, "deck": 20}, "PC (Microsoft Windows)"),
        ({"mac": 7, "linux": 7}, "Mac"),
    ],
    ids=["never-played", "windows", "mac-most", "deck-most", "tie-windows-first", "tie-mac-first"],
)
def test_platform_is_where_the_user_played_most(
    minutes: dict[str, int], expected: str | None
) -> None:
    assert choose_platform([row(1, **minutes)]) == expected


def test_status_follows_playtime_and_settings() -> None:
    result = payload([row(1), row(2, windows=1)], unplayed="BACKLOG", played="PLAYED")
    assert {r["igdbId"]: r["status"] for r in result.library_items} == {
        100_001: "BACKLOG",
        100_002: "PLAYED",
    }


def test_several_apps_of_one_game_make_one_game_and_sum_their_minutes() -> None:
    result = payload([row(20, igdb_id=7, mac=5), row(10, igdb_id=7, linux=3, mac=1)])
    assert len(result.games) == 1
    assert result.games[0]["steamAppId"] == 10
    statuses = {(r["storefrontGameId"], r["status"], r["platform"]) for r in result.library_items}
    assert statuses == {("10", "EXPERIENCED", "Mac"), ("20", "EXPERIENCED", "Mac")}


def test_slug_collisions_inside_one_import_go_to_the_higher_igdb_id() -> None:
    result = payload([row(2, igdb_id=9, slug="portal"), row(1, igdb_id=4, slug="portal")])
    assert {g["igdbId"]: g["slug"] for g in result.games} == {4: "portal", 9: "portal-9"}


@pytest.mark.parametrize(
    ("title", "slug"),
    [("Half-Life 2: Episode One", "half-life-2-episode-one"), ("東方 Project™", "東方-project")],
    ids=["latin", "cjk"],
)
def test_slugify_keeps_letters_of_every_script(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_missing_slug_comes_from_the_title() -> None:
    matched = row(1, igdb_name="Hello, World!").model_copy(update={"igdb_slug": None})
    assert payload([matched]).games[0]["slug"] == "hello-world"


def test_genres_are_unique_by_id_name_and_slug() -> None:
    twin_name = GenreRef(id=99, name=GENRES[0].name, slug="other")
    twin_slug = GenreRef(id=98, name="Other", slug=GENRES[0].slug)
    result = payload([row(1, genres=[GENRES[0], twin_name]), row(2, genres=[twin_slug, GENRES[0]])])
    assert [g["igdbId"] for g in result.genres] == [GENRES[0].id]
    assert {(link["gameIgdbId"], link["genreIgdbId"]) for link in result.game_genres} == {
        (100_001, GENRES[0].id),
        (100_001, 99),
        (100_002, 98),
        (100_002, GENRES[0].id),
    }


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, None),
        (None, None),
        (1_700_000_000, "2023-11-14 22:13:20.000000"),
        (-86_400, "1969-12-31 00:00:00.000000"),
    ],
    ids=["zero-is-never", "none", "recent", "before-1970"],
)
def test_unix_seconds_become_naive_utc_text(seconds: int | None, text: str | None) -> None:
    assert unix_to_timestamp(seconds) == text


def test_the_fields_called_unstored_change_nothing_stage_3_writes() -> None:
    from lambdas.models.rows import Candidate, MatchMethod, stored_alike

    for status in MatchStatus:
        committed = row(7, status=status)
        redecided = committed.model_copy(
            update={
                "match_method": MatchMethod.TITLE,
                "igdb_game_type": 8,
                "igdb_cover_image_id": "co9zzz",
                "candidates": [Candidate(igdb_id=5, name="Another")],
                "enriched_at": datetime(2030, 1, 1),
            }
        )
        assert redecided.model_dump() != committed.model_dump()
        # The records, and the non-game rows' values the filtered list takes (state.filtered)
        written, before = payload([redecided]), payload([committed])
        assert replace(written, non_games=[]) == replace(before, non_games=[])
        assert written.non_games == before.non_games
        assert stored_alike(redecided, committed)
        assert not stored_alike(committed.model_copy(update={"reason": "other"}), committed)
        assert not stored_alike(committed.model_copy(update={"name": "Renamed"}), committed)
