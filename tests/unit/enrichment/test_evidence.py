"""The silent quadrant: the store says game, IGDB has no entry for the uid, and the clues decide."""

from __future__ import annotations

import pytest

from lambdas.enrichment.classifier import RULE_NAMES
from lambdas.enrichment.evidence import FILTER_AT, NAME_WEIGHTS, weigh
from lambdas.enrichment.precedence import by_weaker_evidence, decide
from lambdas.models.igdb import IgdbGame
from lambdas.models.rows import AppKind
from lambdas.models.steam_store import StoreDetails, StoreType

UTILITIES, SOFTWARE, SOUNDTRACK_TAG, DOCUMENTARY, INDIE, GREAT_SOUNDTRACK = (
    87,
    8013,
    7948,
    15339,
    492,
    1756,
)
SINGLE_PLAYER, GAME_DEMO, DLC_CATEGORY = 2, 10, 21
GAME = StoreDetails(tags=(INDIE, GREAT_SOUNDTRACK), players=(SINGLE_PLAYER,))
BARE = StoreDetails()


def silent(
    name: str,
    details: StoreDetails | None = BARE,
    parent: int | None = None,
    titles: tuple[IgdbGame, ...] = (),
) -> tuple[AppKind, str]:
    decision = decide(
        name=name,
        store=StoreType(10, 0, parent, details),
        igdb_entry=None,
        igdb_silent=True,
        title_games=titles,
    )
    return decision.kind, decision.reason


@pytest.mark.parametrize(
    ("name", "kind", "clue"),
    [
        ("Arma Tactics Tools", AppKind.TOOL, "name:sdk_or_mod_tools"),
        ("Main Game SDK", AppKind.TOOL, "name:sdk_or_mod_tools"),
        ("Main Game Level Editor", AppKind.TOOL, "name:editor"),  # a kind of editor
        ("SteamVR", AppKind.TOOL, "name:steam_runtime"),
        ("Main Game: Sunbreak Demo", AppKind.DEMO, "name:demo"),
        ("Main Game Original Soundtrack", AppKind.SOUNDTRACK, "name:soundtrack_suffix"),
        ("Main Game - Launch Trailer", AppKind.VIDEO, "name:video"),
        ("Main Game: The Movie", AppKind.VIDEO, "name:video"),
        ("Main Game - Digital Artbook", AppKind.BONUS_CONTENT, "name:art_and_reading"),
        ("Main Game Bonus Content", AppKind.BONUS_CONTENT, "name:bonus_content"),
        ("Main Game Test Server", AppKind.BETA, "name:test_branch"),
        ("Main Game - Multiplayer", AppKind.MULTIPLAYER_COMPONENT, "name:multiplayer_component"),
        ("Main Game - Closed Beta", AppKind.BETA, "name:beta"),
    ],
)
def test_a_steam_naming_convention_decides_alone(name: str, kind: AppKind, clue: str) -> None:
    assert silent(name, GAME) == (kind, f"steam_type=0 + igdb silent + {clue}")


LOOKALIKE_GAMES = [
    "The Editor",
    "Alpha & Beta",
    "Sinless + OST",
    "Virtual Pool 4 Multiplayer",
    "Blood II: The Chosen + Expansion",
    "Kingdom Builder Beta",
    "Ghost: The Editor",  # a subtitle that is a title
    "Crimson Harbor with Soundtrack",
    "Crimson Harbor Pack",
]


@pytest.mark.parametrize("name", LOOKALIKE_GAMES)
@pytest.mark.parametrize("details", [BARE, GAME, None, StoreDetails(is_free=True)])
def test_real_games_with_look_alike_names_stay(name: str, details: StoreDetails | None) -> None:
    assert silent(name, details) == (AppKind.GAME, "steam_type=0 + igdb silent")


@pytest.mark.parametrize(
    ("name", "details", "parent", "kind", "reason"),
    [
        # a word games also use, and the store item corroborates it
        (
            "The Editor",
            StoreDetails(tags=(UTILITIES,)),
            None,
            AppKind.TOOL,
            "name:editor + store_tag:Utilities",
        ),
        ("Kingdom Builder Beta", BARE, 7, AppKind.BETA, "name:beta + store_parent"),
        (
            "Main Game Multiplayer",
            StoreDetails(is_free=True),
            7,
            AppKind.MULTIPLAYER_COMPONENT,
            "name:multiplayer_component + store_parent + store_free",
        ),
        # a name that says nothing: the store item says what it is
        (
            "Main Game: Golden Echo",
            StoreDetails(tags=(SOUNDTRACK_TAG,)),
            7,
            AppKind.SOUNDTRACK,
            "store_tag:Soundtrack + store_parent",
        ),
        (
            "Main Game: Golden Echo",
            StoreDetails(tags=(INDIE, DOCUMENTARY)),
            7,
            AppKind.VIDEO,
            "store_tag:Documentary + store_parent",
        ),
        (
            "Main Game: Golden Echo",
            StoreDetails(is_free=True, players=(SINGLE_PLAYER,), features=(GAME_DEMO,)),
            None,
            AppKind.DEMO,
            "store_category:Game demo",
        ),
        (
            "Main Game: Golden Echo",
            StoreDetails(tags=(SOFTWARE,), is_free=True),
            7,
            AppKind.APPLICATION,
            "store_tag:Software + store_parent + store_free",
        ),
        (
            "Main Game: Golden Echo",
            StoreDetails(features=(DLC_CATEGORY,)),
            7,
            AppKind.DLC,
            "store_category:Downloadable Content + store_parent",
        ),
    ],
)
def test_the_store_item_corroborates_or_tells(
    name: str, details: StoreDetails, parent: int | None, kind: AppKind, reason: str
) -> None:
    assert silent(name, details, parent) == (kind, f"steam_type=0 + igdb silent + {reason}")


@pytest.mark.parametrize(
    ("details", "parent"),
    [
        (StoreDetails(tags=(UTILITIES,)), None),  # a tag alone: some games carry one
        (StoreDetails(tags=(SOUNDTRACK_TAG,), is_free=True), None),  # free says little alone
        (StoreDetails(is_free=True), 7),  # a parent and a price never say what an app is
        (BARE, 7),
    ],
)
def test_weak_clues_alone_keep_the_game(details: StoreDetails, parent: int | None) -> None:
    assert silent("Main Game: Golden Echo", details, parent)[0] is AppKind.GAME


def test_players_count_against_a_weak_tool_verdict_not_against_a_demo() -> None:
    tool = StoreDetails(tags=(UTILITIES,), players=(SINGLE_PLAYER,))
    assert silent("Crimson Harbor Editor", tool)[0] is AppKind.GAME  # 2 + 2 - 2
    assert silent("Crimson Harbor Editor", StoreDetails(tags=(UTILITIES,)))[0] is AppKind.TOOL
    assert silent("Main Game SDK", tool)[0] is AppKind.TOOL  # a naming convention: no discount
    demo = StoreDetails(players=(SINGLE_PLAYER,), is_free=True)
    assert silent("Main Game Demo", demo, 7)[0] is AppKind.DEMO


def test_the_title_fallbacks_entries_weigh_by_game_type() -> None:
    game = IgdbGame(id=1, name="The Editor", game_type=0)
    with_game = silent("The Editor", StoreDetails(tags=(UTILITIES,)), titles=(game,))
    assert with_game == (AppKind.GAME, "steam_type=0 + igdb silent")  # IGDB knows that game
    demo = IgdbGame(id=2, name="Main Game Demo", game_type=0)
    assert silent("Main Game Demo", titles=(demo,))[0] is AppKind.GAME  # 3 - 3
    addon = IgdbGame(id=3, name="Main Game: Golden Echo", game_type=1)
    other = IgdbGame(id=4, name="Another Title", game_type=0)  # not the same title: no clue
    assert silent("Main Game: Golden Echo", parent=7, titles=(addon, other)) == (
        AppKind.DLC,
        "steam_type=0 + igdb silent + store_parent + igdb_title_game_type=1",
    )


def test_silence_is_only_weighed_once_igdb_was_asked_and_the_store_said_game() -> None:
    store = StoreType(10, 0, 7, StoreDetails(tags=(UTILITIES,)))
    before = decide(name="Main Game Demo", store=store, igdb_entry=None)
    assert (before.kind, before.reason) == (AppKind.GAME, "steam_type=0")  # IGDB not asked yet
    main = IgdbGame(id=1, name="Main Game", game_type=0)
    mapped = decide(name="Main Game Demo", store=store, igdb_entry=main, igdb_silent=False)
    assert (mapped.kind, mapped.reason) == (AppKind.GAME, "steam_type=0 + igdb main")
    dlc_typed = decide(
        name="Main Game Demo", store=StoreType(10, 4), igdb_entry=None, igdb_silent=True
    )
    assert dlc_typed.reason == "steam_type=4"
    delisted = decide(
        name="Main Game - Making Of", store=StoreType(10, None), igdb_entry=None, igdb_silent=True
    )
    assert (delisted.kind, delisted.reason) == (AppKind.VIDEO, "name:video")


def test_weights_cover_every_non_game_rule_and_the_threshold_is_a_strong_clue() -> None:
    assert set(NAME_WEIGHTS) <= set(RULE_NAMES)
    non_game_rules = set(RULE_NAMES) - {
        "game_with_soundtrack",
        "game_title_guard",
        "empty_name",
        "default_game",
    }
    assert set(NAME_WEIGHTS) == non_game_rules
    assert max(NAME_WEIGHTS.values()) == FILTER_AT
    assert weigh(name="Main Game", details=None, parent_appid=None).kind is None


@pytest.mark.parametrize(
    ("reason", "weaker"),
    [
        ("steam_type=0 + igdb silent + name:demo", True),
        ("steam_type=0 + name:playtest", True),
        ("igdb main + name:demo", True),
        ("name:video", True),
        ("steam_type=4", False),
        ("steam_type=4 + name:soundtrack_suffix", False),
        ("igdb_game_type=1", False),
        ("keep", False),
    ],
)
def test_weaker_evidence_is_every_verdict_without_an_authoritys_type(
    reason: str, weaker: bool
) -> None:
    assert by_weaker_evidence(reason) is weaker
