"""Pure matching rules: entry choice, title normalization and the careful title fallback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lambdas.enrichment.classifier import classify_steam_app
from lambdas.enrichment.matching import (
    build_row,
    decide_title_match,
    normalize_title,
    title_variants,
    title_year,
)
from lambdas.enrichment.ranking import choose_entry
from lambdas.models.igdb import IgdbGame
from lambdas.models.rows import AppKind, MatchMethod, MatchStatus, RawGameRow

NOW = datetime(2026, 1, 1, tzinfo=UTC)
Y1998 = int(datetime(1998, 11, 19, tzinfo=UTC).timestamp())
Y2004 = int(datetime(2004, 11, 16, tzinfo=UTC).timestamp())


def game(game_id: int, name: str = "Half-Life", **fields: object) -> IgdbGame:
    return IgdbGame.model_validate({"id": game_id, "name": name, **fields})


def test_choose_entry_prefers_main_games_then_lowest_id() -> None:
    main = game(30, game_type=0)
    edition = game(10, game_type=0, version_parent=30)
    dlc = game(5, game_type=1, parent_game=30)
    bundle = game(7, game_type=3)
    remaster = game(20, game_type=9)
    assert choose_entry([dlc, bundle, edition, remaster, main]) == main
    assert choose_entry([dlc, bundle, edition, remaster]) == remaster
    assert choose_entry([dlc, bundle, edition]) == edition
    assert choose_entry([bundle, dlc]) == dlc  # both add-ons: lowest id, deterministic
    assert choose_entry([game(9, game_type=0), game(8, game_type=0)]).id == 8  # type: ignore[union-attr]
    assert choose_entry([]) is None


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("DOOM®", "Doom"),
        ("The Witcher® 3: Wild Hunt - Game of the Year Edition", "The Witcher 3: Wild Hunt"),
        ("Tom Clancy’s Rainbow Six® Siege", "Tom Clancy's Rainbow Six Siege"),
        ("Ori and the Blind Forest", "Ori & the Blind Forest"),
        ("Fallout 3 (GOTY)", "Fallout 3"),
        ("ＦＵＬＬ　ＷＩＤＴＨ", "full width"),
    ],
)
def test_same_titles(left: str, right: str) -> None:
    assert normalize_title(left) == normalize_title(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Baldur's Gate: Enhanced Edition", "Baldur's Gate"),
        ("Skyrim Special Edition", "Skyrim"),
        ("Half-Life 2", "Half-Life"),
        ("Resident Evil 2", "Resident Evil 2 Remake"),
        ("Gold", ""),
    ],
)
def test_different_titles(left: str, right: str) -> None:
    assert normalize_title(left) != normalize_title(right)


def test_variants_and_year() -> None:
    assert title_variants("DOOM® (1993)") == ["DOOM® (1993)", "DOOM (1993)", "DOOM"]
    assert title_year("DOOM (1993)") == 1993
    assert title_year("2064: Read Only Memories") is None


def test_single_exact_candidate_matches() -> None:
    match, candidates = decide_title_match("Half-Life™", [game(1, first_release_date=Y1998)])
    assert match is not None and match.id == 1
    assert candidates[0].igdb_id == 1 and candidates[0].year == 1998


def test_several_exact_candidates_stay_unmatched() -> None:
    found = [game(1, first_release_date=Y1998), game(2, first_release_date=Y2004)]
    match, candidates = decide_title_match("Half-Life", found)
    assert match is None
    assert [c.igdb_id for c in candidates] == [1, 2]


def test_year_in_name_disambiguates_and_must_agree() -> None:
    found = [game(1, first_release_date=Y1998), game(2, first_release_date=Y2004)]
    match, _ = decide_title_match("Half-Life (2004)", found)
    assert match is not None and match.id == 2
    match, _ = decide_title_match("Half-Life (2010)", found[:1])
    assert match is None


def test_editions_and_near_titles_never_match() -> None:
    match, candidates = decide_title_match("Half-Life", [game(3, version_parent=1)])
    assert match is None and candidates[0].igdb_id == 3
    match, candidates = decide_title_match("Half-Life", [game(4, name="Half-Life 2")])
    assert match is None and candidates[0].name == "Half-Life 2"
    assert decide_title_match("", [game(5, name="")])[0] is None


def test_candidates_are_capped() -> None:
    found = [game(i, name=f"Half-Life {i}") for i in range(1, 8)]
    assert len(decide_title_match("Half-Life", found)[1]) == 3


def test_build_rows() -> None:
    raw = RawGameRow(appid=70, name="Half-Life", playtime_forever=5)
    igdb = game(
        1,
        slug="half-life",
        summary="Crowbar.",
        first_release_date=Y1998,
        cover={"id": 9, "image_id": "co1abc"},
        genres=[{"id": 5, "name": "Shooter", "slug": "shooter"}, {"id": 6}],
        platforms=[
            {"id": 6, "name": "PC (Microsoft Windows)", "slug": "win", "platform_type": {"id": 6}}
        ],
        game_type=0,
        franchises=[{"id": 77}],
    )
    row = build_row(
        raw, classify_steam_app(raw.name), game=igdb, method=MatchMethod.STEAM_APP_ID, now=NOW
    )
    assert row.match_status is MatchStatus.MATCHED
    assert row.cover_url == "https://images.igdb.com/igdb/image/upload/t_cover_big/co1abc.jpg"
    assert [g.slug for g in row.genres] == ["shooter"]  # an unnamed genre is left out, not invented
    assert row.platforms[0].platform_type == 6
    assert row.igdb_franchise_id == 77
    assert row.playtime_forever == 5 and row.enriched_at == NOW

    dlc = build_row(
        raw,
        classify_steam_app(raw.name),
        game=game(2, game_type=1),
        method=MatchMethod.STEAM_APP_ID,
        now=NOW,
    )
    assert (dlc.match_status, dlc.kind, dlc.classifier_rule) == (
        MatchStatus.FILTERED,
        AppKind.DLC,
        "igdb_game_type_dlc_addon",
    )

    soundtrack = RawGameRow(appid=71, name="Half-Life Soundtrack")
    filtered = build_row(
        soundtrack, classify_steam_app(soundtrack.name), game=None, method=MatchMethod.NONE, now=NOW
    )
    assert (filtered.match_status, filtered.kind) == (MatchStatus.FILTERED, AppKind.SOUNDTRACK)
    assert filtered.enriched_at is None
