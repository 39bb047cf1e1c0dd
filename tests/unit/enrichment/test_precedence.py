"""Precedence of the sources: keep > Steam store type > IGDB game_type > name, with reasons."""

from __future__ import annotations

import pytest

from lambdas.enrichment.classifier import classify_steam_app
from lambdas.enrichment.precedence import decide, strong_name_evidence
from lambdas.models.igdb import IgdbGame
from lambdas.models.rows import AppKind
from lambdas.models.steam_store import StoreType

MAIN = IgdbGame(id=72, name="Main Game", game_type=0)
DLC = IgdbGame(id=73, name="Some DLC", game_type=1, parent_game=72)


def store(app_type: int | None) -> StoreType:
    return StoreType(app_id=10, app_type=app_type)


# Real games the name rules alone file as non-games (the names of issue 15's probe).
TYPED_GAMES = [
    "The Editor",
    "Sinless + OST",
    "Virtual Pool 4 Multiplayer",
    "Alpha & Beta",
    "Blood II: The Chosen + Expansion",
]


@pytest.mark.parametrize("name", TYPED_GAMES)
def test_steam_type_game_keeps_names_that_look_like_non_games(name: str) -> None:
    assert classify_steam_app(name).kind is not AppKind.GAME  # the name alone would lose it
    decision = decide(name=name, store=store(0), igdb_entry=None)
    assert (decision.kind, decision.reason) == (AppKind.GAME, "steam_type=0")
    with_igdb = decide(name=name, store=store(0), igdb_entry=MAIN)
    assert (with_igdb.kind, with_igdb.reason) == (AppKind.GAME, "steam_type=0 + igdb main")


def test_steam_type_game_keeps_even_when_igdb_says_dlc() -> None:
    decision = decide(name="Opposing Force", store=store(0), igdb_entry=DLC)
    assert (decision.kind, decision.reason) == (AppKind.GAME, "steam_type=0 + igdb_game_type=1")


@pytest.mark.parametrize(
    ("app_type", "name", "kind", "reason"),
    [
        (4, "Main Game - Season Pass", AppKind.DLC, "steam_type=4"),
        (
            4,
            "Main Game Digital Art Book",
            AppKind.BONUS_CONTENT,
            "steam_type=4 + name:art_and_reading",
        ),
        (4, "Main Game Soundtrack", AppKind.SOUNDTRACK, "steam_type=4 + name:soundtrack_suffix"),
        (11, "Main Game", AppKind.SOUNDTRACK, "steam_type=11"),
        (13, "Main Game", AppKind.TOOL, "steam_type=13"),
        (13, "Main Game Dedicated Server", AppKind.SERVER, "steam_type=13 + name:server"),
        (1, "Main Game", AppKind.DEMO, "steam_type=1"),
        (12, "Main Game", AppKind.BETA, "steam_type=12"),
        (6, "Main Game", AppKind.APPLICATION, "steam_type=6"),
        (7, "Main Game", AppKind.VIDEO, "steam_type=7"),
    ],
)
def test_non_game_steam_types_file_the_app_even_when_igdb_maps_it_to_a_main_game(
    app_type: int, name: str, kind: AppKind, reason: str
) -> None:
    decision = decide(name=name, store=store(app_type), igdb_entry=MAIN)
    assert (decision.kind, decision.reason) == (kind, reason)
    assert not decision.enrich


@pytest.mark.parametrize(
    ("name", "kind", "reason"),
    [
        ("Main Game Dedicated Server", AppKind.SERVER, "steam_type=0 + name:dedicated_server"),
        ("Main Game Playtest", AppKind.BETA, "steam_type=0 + name:playtest"),
        ("Main Game Demo", AppKind.GAME, "steam_type=0"),  # only the two exact suffixes
        ("Playtest Panic", AppKind.GAME, "steam_type=0"),
    ],
)
def test_only_high_confidence_names_demote_a_store_typed_game(
    name: str, kind: AppKind, reason: str
) -> None:
    decision = decide(name=name, store=store(0), igdb_entry=None)
    assert (decision.kind, decision.reason) == (kind, reason)


@pytest.mark.parametrize("silent", [None, store(None)])
def test_a_delisted_app_falls_back_on_igdb_then_on_its_name(silent: StoreType | None) -> None:
    assert decide(name="Main Game - Season Pass", store=silent, igdb_entry=MAIN).reason == (
        "igdb main"
    )
    filed = decide(name="Main Game", store=silent, igdb_entry=DLC)
    assert (filed.kind, filed.reason) == (AppKind.DLC, "igdb_game_type=1")
    pitfall = decide(name="Main Game Demo", store=silent, igdb_entry=MAIN)
    assert (pitfall.kind, pitfall.reason) == (AppKind.DEMO, "igdb main + name:demo")
    by_name = decide(name="Main Game - Season Pass", store=silent, igdb_entry=None)
    assert (by_name.kind, by_name.reason) == (AppKind.DLC, "name:pass")
    game = decide(name="Main Game", store=silent, igdb_entry=None)
    assert (game.kind, game.reason) == (AppKind.GAME, "name:default_game")


def test_keep_beats_every_source() -> None:
    decision = decide(name="Main Game Soundtrack", store=store(11), igdb_entry=DLC, kept=True)
    assert (decision.kind, decision.reason, decision.enrich) == (AppKind.GAME, "keep", True)


@pytest.mark.parametrize(
    ("name", "over_igdb", "expected"),
    [
        ("X Dedicated Server", False, ("dedicated_server", AppKind.SERVER)),
        ("X Soundtrack", False, None),
        ("X Soundtrack", True, ("soundtrack", AppKind.SOUNDTRACK)),
        ("X + Soundtrack", True, None),
        ("Sinless + OST", True, None),
        ("X Free Demo", True, ("demo", AppKind.DEMO)),
        ("Dedicated Server", False, None),  # the suffix is never the whole name
    ],
)
def test_strong_name_evidence(
    name: str, over_igdb: bool, expected: tuple[str, AppKind] | None
) -> None:
    assert strong_name_evidence(name, over_igdb=over_igdb) == expected


def test_every_source_in_order_reaches_the_goal_on_the_emulators_catalogue() -> None:
    from bench.classifier_report import SOURCES, evaluate_sources, render_sources

    report = evaluate_sources()
    assert report.games_kept / report.games >= 0.995
    assert report.non_games_caught / report.non_games >= 0.95
    assert report.name_only_games_kept < report.games  # the store traps: names alone lose them
    decided_by = {source for _, source in report.decided}
    assert decided_by >= {"steam type", "name over steam", "igdb", "name"}
    text = render_sources(report)
    assert all(source in text for source in SOURCES)
