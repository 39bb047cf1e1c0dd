"""Tests for the stage-2 classifier: name rules, IGDB refinement, totality, labelled figures."""

from __future__ import annotations

import pytest
from bench.classifier_report import evaluate, load_labelled, render
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdas.enrichment import classifier
from lambdas.enrichment.classifier import (
    RULE_NAMES,
    Classification,
    IgdbGameType,
    classify_steam_app,
    normalize_name,
    refine_with_igdb_game_type,
    required_strings,
)
from lambdas.models.rows import AppKind

K = AppKind

RULE_CASES: list[tuple[str, AppKind, str]] = [
    ("Wallpaper Engine", K.APPLICATION, "known_application"),
    ("RPG Maker MZ", K.APPLICATION, "known_application"),
    ("Bigscreen Beta", K.APPLICATION, "known_application"),
    ("Proton 8.0", K.TOOL, "steam_runtime"),
    ("Proton Experimental", K.TOOL, "steam_runtime"),
    ("Steam Linux Runtime 3.0 (sniper)", K.TOOL, "steam_runtime"),
    ("Steamworks Common Redistributables", K.TOOL, "steam_runtime"),
    ("Source SDK Base 2013 Multiplayer", K.TOOL, "steam_runtime"),
    ("SteamVR", K.TOOL, "steam_runtime"),
    ("3DMark", K.TOOL, "benchmark"),
    ("Some Game Benchmark", K.TOOL, "benchmark"),
    ("Some Game Soundtrack Edition", K.GAME, "game_with_soundtrack"),
    ("Some Game Deluxe Edition + Soundtrack", K.GAME, "game_with_soundtrack"),
    ("Dedicated Server Simulator", K.GAME, "game_title_guard"),
    ("The Jackbox Party Pack 7", K.GAME, "game_title_guard"),
    ("The LEGO Movie - Videogame", K.GAME, "game_title_guard"),
    ("X Soundtrack", K.SOUNDTRACK, "soundtrack_suffix"),
    ("X - Original Soundtrack", K.SOUNDTRACK, "soundtrack_suffix"),
    ("X OST", K.SOUNDTRACK, "soundtrack_suffix"),
    ("X: Original Soundtrack Vol. 2", K.SOUNDTRACK, "soundtrack_suffix"),
    ("X Soundtrack (Deluxe)", K.SOUNDTRACK, "soundtrack_suffix"),
    ("X Soundtrack + Artbook", K.SOUNDTRACK, "soundtrack_suffix"),
    ("X - Original Score", K.SOUNDTRACK, "music_suffix"),
    ("X: Music", K.SOUNDTRACK, "music_suffix"),
    ("X Soundtrack and Wallpapers Bundle", K.SOUNDTRACK, "soundtrack_word"),
    ("X Playtest", K.BETA, "test_branch"),
    ("X Public Test", K.BETA, "test_branch"),
    ("X: Test Server", K.BETA, "test_branch"),
    ("Dota 2 Test", K.BETA, "test_branch"),
    ("X Experimental", K.BETA, "test_branch"),
    ("X - Staging Branch", K.BETA, "test_branch"),
    ("X Beta", K.BETA, "beta"),
    ("X - Open Beta", K.BETA, "beta"),
    ("X (Beta) Client Build", K.BETA, "beta"),
    ("X Dedicated Server", K.SERVER, "server"),
    ("X Dedicated Server Tool", K.SERVER, "server"),
    ("Arma 3 Server", K.SERVER, "server"),
    ("X Demo", K.DEMO, "demo"),
    ("X - Demo", K.DEMO, "demo"),
    ("X (Demo)", K.DEMO, "demo"),
    ("X Prologue Demo", K.DEMO, "demo"),
    ("X Free Trial", K.DEMO, "demo"),
    ("X - Multiplayer", K.MULTIPLAYER_COMPONENT, "multiplayer_component"),
    ("X Multiplayer (Legacy)", K.MULTIPLAYER_COMPONENT, "multiplayer_component"),
    ("Call of Duty: Black Ops II - Zombies", K.MULTIPLAYER_COMPONENT, "multiplayer_component"),
    ("It Takes Two Friend's Pass", K.MULTIPLAYER_COMPONENT, "multiplayer_component"),
    ("X Trailer", K.VIDEO, "video"),
    ("X - Launch Trailer", K.VIDEO, "video"),
    ("X: The Movie", K.VIDEO, "video"),
    ("X - The Making of X", K.VIDEO, "video"),
    ("X: A Documentary", K.VIDEO, "video"),
    ("X - Short Film", K.VIDEO, "video"),
    ("X: The Animated Series", K.VIDEO, "video"),
    ("X - Developer Interviews", K.VIDEO, "video"),
    ("X Cinematics", K.VIDEO, "video"),
    ("X SDK", K.TOOL, "sdk_or_mod_tools"),
    ("X Modding Tools", K.TOOL, "sdk_or_mod_tools"),
    ("X - Creation Kit", K.TOOL, "sdk_or_mod_tools"),
    ("Arma 3 Tools", K.TOOL, "sdk_or_mod_tools"),
    ("X Video Editor", K.APPLICATION, "media_application"),
    ("X Editor", K.TOOL, "editor"),
    ("X Level Editor", K.TOOL, "editor"),
    ("X - Digital Art Book", K.BONUS_CONTENT, "art_and_reading"),
    ("X Artbook", K.BONUS_CONTENT, "art_and_reading"),
    ("X Wallpapers", K.BONUS_CONTENT, "art_and_reading"),
    ("X - Digital Comic", K.BONUS_CONTENT, "art_and_reading"),
    ("X Sketchbook", K.BONUS_CONTENT, "art_and_reading"),
    ("X - The Art of X", K.BONUS_CONTENT, "art_and_reading"),
    ("X Audiobook", K.BONUS_CONTENT, "art_and_reading"),
    ("X - Extras", K.BONUS_CONTENT, "bonus_content"),
    ("X - Pre-Order Bonus", K.DLC, "preorder"),
    ("X - Bonus Content", K.BONUS_CONTENT, "bonus_content"),
    ("X - Season Pass", K.DLC, "pass"),
    ("X Expansion Pass", K.DLC, "pass"),
    ("X - Year 1 Character Pass", K.DLC, "pass"),
    ("X - Some DLC Name DLC", K.DLC, "dlc_word"),
    ("X - Add-on", K.DLC, "dlc_word"),
    ("X - Expansion", K.DLC, "expansion"),
    ("X Digital Deluxe Upgrade", K.DLC, "upgrade"),
    ("X - Upgrade to Gold Edition", K.DLC, "upgrade"),
    ("X - Costume Pack", K.DLC, "content_pack"),
    ("X - Hero Skins", K.DLC, "content_pack"),
    ("X: Expansions Bundle", K.DLC, "content_pack"),
    ("X - Korean Language", K.DLC, "content_pack"),
    ("Half-Life 2", K.GAME, "default_game"),
    ("", K.GAME, "empty_name"),
    (" \t\n\x00\u200f ", K.GAME, "empty_name"),
]


@pytest.mark.parametrize(
    ("name", "kind", "rule"), RULE_CASES, ids=[c[0] or "<empty>" for c in RULE_CASES]
)
def test_rule_fires(name: str, kind: AppKind, rule: str) -> None:
    verdict = classify_steam_app(name)
    assert (verdict.kind, verdict.rule) == (kind, rule)
    assert verdict.enrich is (kind is AppKind.GAME)


TRAP_GAMES = [
    "Test Drive Unlimited 2",
    "The Turing Test",
    "Demonologist",
    "Democracy 4",
    "Demo Derby",
    "The Expanse: A Telltale Series",
    "Life is Strange - Episode 1",
    "Half-Life 2: Episode Two",
    "The Walking Dead: Season Two",
    "Season: A letter to the future",
    "Server Wars",
    "Dedicated",
    "Tools Up!",
    "Toolbox",
    "Soundtrack of the Ancients",
    "Beta Decay",
    "Trailer Park Boys: Greasy Money",
    "Movie Studio Tycoon",
    "The Jackbox Party Pack",
    "Capcom Beat 'Em Up Bundle",
    "Half-Life 2: Deathmatch",
    "SteamWorld Dig 2",
    "DLC Quest",
    "Poppy Playtime",
    "Ghost of Tsushima DIRECTOR'S CUT",
    "Borderlands: The Pre-Sequel",
    "Plants vs. Zombies GOTY Edition",
    "Superbrothers: Sword & Sworcery EP",
    "Company of Heroes (New Steam Version)",
    "art of rally",
    "The Art of Rally",
    "Extras",
    "Cutscenes Inc",
    "Interview with the Whisperer",
    "Space Engineers",
    "Unpacking",
]


@pytest.mark.parametrize("name", TRAP_GAMES)
def test_trap_titles_stay_games(name: str) -> None:
    verdict = classify_steam_app(name)
    assert verdict == Classification(AppKind.GAME, enrich=True, rule=verdict.rule)
    assert verdict.rule in {"default_game", "game_title_guard"}


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("ＤＥＭＯ ＧＡＭＥ Ｄｅｍｏ", AppKind.DEMO),  # full-width forms fold under NFKC
        ("Portal\u00a0Soundtrack", AppKind.SOUNDTRACK),  # no-break space
        ("Portal \u2013 Official Soundtrack", AppKind.SOUNDTRACK),  # en dash
        ("Portal\u200b Demo\u200f", AppKind.DEMO),  # zero-width space, RTL mark
        ("Portal™ Dedicated Server®", AppKind.SERVER),
        ("PORTAL   dedicated\tSERVER", AppKind.SERVER),
        ("Portal\x00 Demo", AppKind.DEMO),
    ],
)
def test_normalization(name: str, kind: AppKind) -> None:
    assert classify_steam_app(name).kind is kind


@pytest.mark.parametrize(
    "name",
    [
        "a" * 1_000_000,
        " - " * 333_333,
        "(" * 1_000_000,
        "x ost vol 1 " * 80_000,
        ("\u202e\x00\x07 demo" * 100_000),
    ],
    ids=["letters", "separators", "parens", "ost-tails", "controls"],
)
def test_megabyte_names_are_classified(name: str) -> None:
    assert classify_steam_app(name).rule in RULE_NAMES


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_classify_is_total(name: str) -> None:
    verdict = classify_steam_app(name)
    assert isinstance(verdict.kind, AppKind)
    assert verdict.enrich is (verdict.kind is AppKind.GAME)
    assert verdict.rule in RULE_NAMES


@pytest.mark.parametrize(
    ("pattern", "strings"),
    [
        (r"(?<=.)\bsoundtracks?\b", ("soundtrack",)),
        (r"(?:original |official )?(?:soundtrack|ost)$", ("ost", "soundtrack")),
        (r"(?:a|b)?zed", ("zed",)),
        (r"(?:foo|bar)(?: tool| kit)", ("bar", "foo")),  # the longer strings, then fewer
        (r"x{2,3}", ("x",)),  # a repeat matched at least once holds its string
        (r"(?:ab|[cd])", ()),  # an alternative without a literal: no set
        (r"x*y?", ()),
        (r"(?i)abc", ()),  # case-folded matching: the literals are not the text's
        (r"(?i:abc)d", ("d",)),
    ],
)
def test_required_strings_of_a_pattern(pattern: str, strings: tuple[str, ...]) -> None:
    assert required_strings(pattern) == strings


_FRAGMENTS = sorted(
    {needed for rule in classifier._RULES for needed in rule.needs}
    | {" ", " - ", ": ", "(", ")", "[", "]", "2", "ii", "vol. 3", "+", "&", "'s", "x", "the"}
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=8).map("".join))
def test_a_rule_skipped_for_its_missing_strings_would_not_have_matched(text: str) -> None:
    """The shortcut is exact: a rule passes a name without its strings only when its pattern
    does not match the name either."""
    text = normalize_name(text)
    for rule in classifier._RULES:
        assert rule.matches(text) is (rule.pattern.search(text) is not None), rule.name


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=40))
def test_the_ascii_shortcut_normalizes_as_the_unicode_steps_do(name: str) -> None:
    """Printable ASCII takes the short path (case and spaces only); it must give what the
    Unicode steps give, control characters and all other ASCII included."""
    assert classifier._normalize(name) == classifier._normalize_unicode(name)


def test_every_rule_has_strings_to_look_for() -> None:
    assert all(rule.needs for rule in classifier._RULES)


def test_classification_rejects_inconsistent_enrich() -> None:
    with pytest.raises(ValueError, match="only GAME"):
        Classification(AppKind.DLC, enrich=True, rule="x")


def test_labelled_list_figures() -> None:
    rows = load_labelled()
    assert len(rows) >= 300
    assert len({r.name for r in rows}) == len(rows)
    report = evaluate(rows)
    print("\n" + render(report))
    assert report.games_kept_share >= 0.99
    assert report.non_games_caught_share >= 0.90
    assert {r.kind for r in rows} == set(AppKind)


_GAME = Classification(AppKind.GAME, enrich=True, rule="default_game")
T = IgdbGameType
REFINEMENT_TABLE: list[tuple[int, AppKind, str]] = [
    (T.MAIN_GAME, K.GAME, "default_game"),
    (T.DLC_ADDON, K.DLC, "igdb_game_type_dlc_addon"),
    (T.EXPANSION, K.DLC, "igdb_game_type_expansion"),
    (T.BUNDLE, K.DLC, "igdb_game_type_bundle"),
    (T.STANDALONE_EXPANSION, K.GAME, "default_game"),
    (T.MOD, K.BONUS_CONTENT, "igdb_game_type_mod"),
    (T.EPISODE, K.GAME, "default_game"),
    (T.SEASON, K.GAME, "default_game"),
    (T.REMAKE, K.GAME, "default_game"),
    (T.REMASTER, K.GAME, "default_game"),
    (T.EXPANDED_GAME, K.GAME, "default_game"),
    (T.PORT, K.GAME, "default_game"),
    (T.FORK, K.GAME, "default_game"),
    (T.PACK, K.DLC, "igdb_game_type_pack"),
    (T.UPDATE, K.DLC, "igdb_game_type_update"),
]


@pytest.mark.parametrize(("game_type", "kind", "rule"), REFINEMENT_TABLE, ids=lambda v: str(v))
def test_refinement_of_a_game(game_type: int, kind: AppKind, rule: str) -> None:
    refined = refine_with_igdb_game_type(_GAME, game_type)
    assert (refined.kind, refined.rule, refined.enrich) == (kind, rule, kind is AppKind.GAME)


def test_refinement_table_covers_every_game_type() -> None:
    assert {row[0] for row in REFINEMENT_TABLE} == set(IgdbGameType)


@pytest.mark.parametrize("game_type", [None, 15, 99, -1])
def test_refinement_without_evidence_keeps_verdict(game_type: int | None) -> None:
    assert refine_with_igdb_game_type(_GAME, game_type) is _GAME


@pytest.mark.parametrize("game_type", [*IgdbGameType, None])
@pytest.mark.parametrize("name", ["Portal 2 Demo", "Portal 2 Soundtrack", "Portal 2 Playtest"])
def test_igdb_never_promotes_a_non_game_name(name: str, game_type: int | None) -> None:
    verdict = classify_steam_app(name)
    assert refine_with_igdb_game_type(verdict, game_type) == verdict


def test_refinement_is_idempotent() -> None:
    once = refine_with_igdb_game_type(_GAME, IgdbGameType.DLC_ADDON)
    assert refine_with_igdb_game_type(once, IgdbGameType.MAIN_GAME) == once
