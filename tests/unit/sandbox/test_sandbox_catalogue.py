"""The sandbox's generated world: determinism, proportions and ground-truth consistency."""

from __future__ import annotations

import pickle
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from steam_sandbox import (
    AppKind,
    Catalogue,
    CatalogueConfig,
    MatchSource,
    MatchStatus,
    generate_catalogue,
)
from steam_sandbox.catalogue import shared_catalogue
from steam_sandbox.names import normalize
from steam_sandbox.reference_data import FILTERED_GAME_TYPES

SMALL = CatalogueConfig(seed=7, game_apps=600, igdb_only_games=60)


@pytest.fixture(scope="module")
def world() -> Catalogue:
    """The default world, the very one every sandbox of the session serves (read-only)."""
    return shared_catalogue(CatalogueConfig(seed=42))


@pytest.fixture(scope="module")
def steam_rows(world: Catalogue) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in world.tables["external_games"]:
        if row["external_game_source"] == 1:
            rows[row["uid"]].append(row)
    return rows


@pytest.fixture(scope="module")
def games(world: Catalogue) -> dict[int, dict[str, Any]]:
    return {g["id"]: g for g in world.tables["games"]}


def test_same_seed_same_world() -> None:
    first, second = generate_catalogue(SMALL), generate_catalogue(SMALL)

    assert first.apps == second.apps
    assert first.tables == second.tables


def test_other_seed_other_world() -> None:
    other = generate_catalogue(CatalogueConfig(seed=8, game_apps=600, igdb_only_games=60))

    assert other.apps != generate_catalogue(SMALL).apps


TINY = CatalogueConfig(seed=9, game_apps=150, igdb_only_games=20)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache folder of this test's own; the process's worlds forgotten before and after."""
    monkeypatch.setenv("STEAM_SANDBOX_CACHE", str(tmp_path))
    shared_catalogue.cache_clear()
    yield tmp_path
    shared_catalogue.cache_clear()


def test_a_stored_world_is_read_back_equal_to_a_generated_one(cache: Path) -> None:
    first = shared_catalogue(TINY)
    (stored,) = cache.glob("catalogue-*.pickle")
    shared_catalogue.cache_clear()

    again = shared_catalogue(TINY)

    assert again is not first
    fresh = generate_catalogue(TINY)
    assert (again.apps, again.tables, again.pools) == (fresh.apps, fresh.tables, fresh.pools)
    assert list(cache.glob("catalogue-*.pickle")) == [stored]
    # Read, not generated: a mark put into the stored world comes back.
    marked = pickle.loads(stored.read_bytes())  # the test's own file
    marked.pools["marked"] = [1]
    stored.write_bytes(pickle.dumps(marked))
    shared_catalogue.cache_clear()
    assert shared_catalogue(TINY).pools["marked"] == [1]


def test_an_unreadable_stored_world_is_generated_again_and_replaced(cache: Path) -> None:
    shared_catalogue(TINY)
    (stored,) = cache.glob("catalogue-*.pickle")
    stored.write_bytes(b"not a pickle")
    shared_catalogue.cache_clear()

    world = shared_catalogue(TINY)

    assert world.apps == generate_catalogue(TINY).apps
    assert stored.read_bytes() != b"not a pickle"


def test_worlds_of_other_code_are_removed_and_off_stores_nothing(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = cache / "catalogue-0000000000000000-0000000000000000.pickle"
    old.write_bytes(b"a world of older code")
    shared_catalogue(TINY)
    assert not old.exists() and len(list(cache.glob("catalogue-*.pickle"))) == 1

    monkeypatch.setenv("STEAM_SANDBOX_CACHE", "off")
    shared_catalogue.cache_clear()
    other = CatalogueConfig(seed=10, game_apps=150, igdb_only_games=20)
    assert shared_catalogue(other).config == other
    assert len(list(cache.glob("catalogue-*"))) == 1


def test_every_app_kind_and_status_occurs(world: Catalogue) -> None:
    kinds = Counter(app.truth.kind for app in world.apps.values())
    statuses = Counter(app.truth.status for app in world.apps.values())

    assert set(kinds) == set(AppKind)
    assert set(statuses) == set(MatchStatus)
    assert len(world.apps) > 22_000


def test_about_85_percent_of_game_apps_are_mapped(world: Catalogue, steam_rows: Any) -> None:
    game_apps = [a for a in world.apps.values() if a.truth.kind is AppKind.GAME]
    mapped = [a for a in game_apps if str(a.appid) in steam_rows]

    assert 0.82 < len(mapped) / len(game_apps) < 0.88


def test_multi_entry_uids_are_rare_and_small(world: Catalogue, steam_rows: Any) -> None:
    sizes = [len(rows) for rows in steam_rows.values()]
    several = sum(1 for n in sizes if n > 1)

    assert max(sizes) <= 3
    assert 0.03 <= several / len(sizes) <= 0.05


def test_uids_are_strings_of_app_ids(world: Catalogue, steam_rows: Any) -> None:
    assert all(isinstance(uid, str) and int(uid) in world.apps for uid in steam_rows)


def test_ground_truth_agrees_with_the_igdb_rows(
    world: Catalogue, steam_rows: Any, games: dict[int, dict[str, Any]]
) -> None:
    for app in world.apps.values():
        truth = app.truth
        mapped = sorted(r["game"] for r in steam_rows.get(str(app.appid), []))
        assert mapped == sorted(truth.mapped_igdb_ids), truth
        if truth.status is MatchStatus.MATCHED and truth.match_source is MatchSource.EXTERNAL_GAMES:
            chosen = games[truth.igdb_id]  # type: ignore[index]
            assert chosen["game_type"] not in FILTERED_GAME_TYPES
            preferred = [
                g for g in mapped if games[g]["game_type"] == 0 and "version_parent" not in games[g]
            ]
            assert preferred in ([truth.igdb_id], [])
        if "igdb_pitfall" in truth.tags:  # IGDB files this demo's uid under the main game
            assert truth.status is MatchStatus.FILTERED and app.store_type in (1, 4, 11)
            assert all(games[g]["game_type"] not in FILTERED_GAME_TYPES for g in mapped)
        elif truth.status is MatchStatus.FILTERED and mapped:
            assert all(games[g]["game_type"] in FILTERED_GAME_TYPES for g in mapped)
        if truth.kind is not AppKind.GAME:
            assert truth.status is MatchStatus.FILTERED
        if truth.status is MatchStatus.UNMATCHED:
            assert not mapped


def test_title_fallback_and_ambiguous_names(
    world: Catalogue, steam_rows: Any, games: dict[int, dict[str, Any]]
) -> None:
    by_name: dict[str, list[int]] = defaultdict(list)
    by_key: dict[str, set[int]] = defaultdict(set)
    for game in games.values():
        by_name[game["name"]].append(game["id"])
        by_key[normalize(game["name"])].add(game["id"])
    fallback = [world.truth(a) for a in world.pools["title_fallback"]]
    ambiguous = [world.truth(a) for a in world.pools["ambiguous"]]
    unmatched = [world.truth(a) for a in world.pools["unmatched"]]

    assert len(fallback) > 50
    assert len(ambiguous) > 20
    for truth in fallback:
        assert truth.match_source is MatchSource.TITLE
        assert by_name[truth.name] == [truth.igdb_id]
        assert str(truth.appid) not in steam_rows
    for truth in ambiguous:
        assert truth.status is MatchStatus.UNMATCHED
        assert sorted(by_name[truth.name]) == sorted(truth.candidates)
        assert len(truth.candidates) >= 2
    for truth in unmatched:
        assert normalize(truth.name) not in by_key


def test_trap_titles_are_mapped_games(world: Catalogue) -> None:
    traps = [world.truth(a) for a in world.pools["trap_title"]]
    names = " ".join(t.name for t in traps)

    for word in ("Test Drive", "Demon's Souls", "The Expanse", "Season of", "Server Wars"):
        assert word in names
    assert all(t.kind is AppKind.GAME and t.status is MatchStatus.MATCHED for t in traps)


def test_non_game_names_look_like_steam_names(world: Catalogue) -> None:
    patterns = {
        AppKind.SOUNDTRACK: r"Soundtrack|OST",
        AppKind.DEMO: r"Demo",
        AppKind.BETA: r"Playtest|Public Test|Beta",
        AppKind.SERVER: r"Dedicated Server",
        AppKind.TOOL: r"SDK|Editor|Tools",
        AppKind.BONUS_CONTENT: r"Art ?[Bb]ook|Wallpapers|Strategy Guide",
        AppKind.VIDEO: r"Trailer|Movie|Documentary",
        AppKind.MULTIPLAYER_COMPONENT: r"Multiplayer",
    }
    for app in world.apps.values():
        pattern = patterns.get(app.truth.kind)
        if pattern and "silent_plain" not in app.truth.tags:  # those say nothing on purpose
            assert re.search(pattern, app.name), app.name


def test_the_silent_quadrant_has_non_games_and_look_alike_games(world: Catalogue) -> None:
    """Typed 0 without an IGDB entry: tools, demos, soundtracks, videos, books and multiplayer
    components (some under plain names), next to unmatched games with look-alike titles, each
    item carrying the store data its nature gives it."""
    pools, apps = world.pools, world.apps
    silent = [apps[a] for a in pools["silent_nongame"]]
    assert {app.truth.kind for app in silent} == {
        AppKind.TOOL,
        AppKind.DEMO,
        AppKind.SOUNDTRACK,
        AppKind.VIDEO,
        AppKind.BONUS_CONTENT,
        AppKind.MULTIPLAYER_COMPONENT,
    }
    for app in silent:
        assert app.store_type == 0 and not app.truth.mapped_igdb_ids
        assert app.truth.status is MatchStatus.FILTERED and app.parent_appid is not None
    plain = [apps[a] for a in pools["silent_plain"]]
    assert {app.truth.kind for app in plain} <= {
        AppKind.TOOL,
        AppKind.DEMO,
        AppKind.SOUNDTRACK,
        AppKind.VIDEO,
    }
    assert plain and all(app.name.startswith(apps[app.parent_appid].name + ": ") for app in plain)  # type: ignore[index]
    assert set(pools["silent_untold"]) < set(pools["silent_plain"])
    lookalikes = [apps[a] for a in pools["silent_game"]]
    assert len(lookalikes) >= 20
    for app in lookalikes:
        assert app.truth.kind is AppKind.GAME and app.truth.status is MatchStatus.UNMATCHED
        assert app.store_type == 0 and app.parent_appid is None and app.store_players
        assert re.search(r"Editor|Multiplayer|Beta|OST|Soundtrack|Expansion", app.name)
    games = [app for app in apps.values() if app.truth.kind is AppKind.GAME]
    assert all(app.store_players for app in games)  # every game lists who plays it
    tools = [app for app in apps.values() if app.truth.kind is AppKind.TOOL]
    assert all(app.store_free and not app.store_players for app in tools)
    assert any(13906 in app.store_tags or 87 in app.store_tags for app in tools)


def test_hard_characters_occur_in_names(world: Catalogue) -> None:
    names = [a.name for a in world.apps.values()]

    for needle in ('"', ",", "\\", "™", "®", "🚀", "の", "é"):
        assert any(needle in n for n in names), needle


def test_some_games_lack_dates_or_covers(games: dict[int, dict[str, Any]]) -> None:
    assert any("first_release_date" not in g for g in games.values())
    assert any("cover" not in g for g in games.values())
    assert any("version_parent" in g for g in games.values())
    assert any("parent_game" in g for g in games.values())
    assert {g["game_type"] for g in games.values()} >= {0, 1, 3, 5, 13, 14}


def test_slugs_are_unique(games: dict[int, dict[str, Any]]) -> None:
    slugs = [g["slug"] for g in games.values()]

    assert len(slugs) == len(set(slugs))


def test_pagination_app_is_off_by_default_and_optional(world: Catalogue) -> None:
    config = CatalogueConfig(seed=3, game_apps=200, igdb_only_games=10, pagination_rows=600)

    paged = generate_catalogue(config)

    assert world.pagination_appid is None
    assert paged.pagination_appid is not None
    rows = [r for r in paged.tables["external_games"] if r["uid"] == str(paged.pagination_appid)]
    assert len(rows) == 600
