"""The sandbox's users: stable ids, library sizes, laziness and ground truth."""

from __future__ import annotations

import pytest

from lambdas.models.steam import SteamAccountRef, parse_steam_account
from steam_sandbox import Catalogue, CatalogueConfig, generate_catalogue
from steam_sandbox.apicalypse import parse_query
from steam_sandbox.catalogue import shared_catalogue
from steam_sandbox.igdb_query import QueryEngine
from steam_sandbox.igdb_store import IgdbStore
from steam_sandbox.users import STEAMID64_BASE, Libraries, build_users, unvetted_listed


@pytest.fixture(scope="module")
def world() -> Catalogue:
    """The default world, the very one every sandbox of the session serves (read-only)."""
    return shared_catalogue(CatalogueConfig(seed=42))


def test_ids_are_valid_individual_steamid64s_and_stable() -> None:
    users = build_users()

    for user in users:
        value = int(user.steamid64)
        assert STEAMID64_BASE < value <= 76561202255233023
        assert len(user.steamid64) == 17
    assert users.small.steamid64 == "76561197961166729"
    assert users.huge.vanity == "sandbox_huge"
    assert users.nonexistent.vanity is None
    assert users.by_name("medium") is users.medium


def test_every_vanity_is_a_name_the_command_line_takes_bare() -> None:
    """`--steam sandbox_medium` as docs/sandbox.md prints it: the CLI refuses bare names with
    `-` (placeholders like `not-an-id`), so the emulator's names have none."""
    for user in build_users():
        if user.vanity is not None:
            assert parse_steam_account(user.vanity) == SteamAccountRef(vanity=user.vanity)


def test_expected_counts() -> None:
    users = build_users()

    assert [u.expected_game_count for u in users] == [25, 500, 2000, 20000, 0, 0, 0, 0]
    # Stage 1 lists unvetted apps too (skip_unvetted_apps=0): about 1 % more.
    with_unvetted = build_users(unvetted_apps=250)
    assert [u.expected_game_count for u in with_unvetted] == [26, 505, 2020, 20200, 0, 0, 0, 0]
    assert users.private_profile.visibility == 1
    assert users.private_games.visibility == 3
    assert not users.private_games.games_public


@pytest.mark.parametrize("name", ["small", "medium", "large", "huge"])
def test_ground_truth_has_the_expected_count(world: Catalogue, name: str) -> None:
    users = build_users(unvetted_apps=unvetted_listed(world))
    libraries = Libraries(world, users)
    user = users.by_name(name)

    truth = libraries.ground_truth(user)

    assert len(truth) == user.expected_game_count
    assert len({t.appid for t in truth}) == len(truth)
    assert [t.appid for t in truth] == sorted(t.appid for t in truth)


def test_libraries_are_deterministic_and_cached(world: Catalogue) -> None:
    users = build_users()
    one, two = Libraries(world, users), Libraries(world, users)

    assert one.library(users.medium) == two.library(users.medium)
    assert one.library(users.medium) is one.library(users.medium)
    assert one.library(users.empty) == ()


def test_small_library_shows_every_case(world: Catalogue) -> None:
    users = build_users()
    tags = {tag for t in Libraries(world, users).ground_truth(users.small) for tag in t.tags}
    kinds = {t.kind for t in Libraries(world, users).ground_truth(users.small)}

    assert {"trap_title", "multi_entry", "title_fallback", "ambiguous", "igdb_filtered"} <= tags
    assert len(kinds) == 11


def test_private_and_missing_users_have_no_ground_truth(world: Catalogue) -> None:
    users = build_users()
    libraries = Libraries(world, users)

    for user in (users.private_profile, users.private_games, users.empty, users.nonexistent):
        assert libraries.ground_truth(user) == []
    assert libraries.user(users.nonexistent.steamid64) is None
    assert libraries.resolve_vanity("SANDBOX_SMALL") == users.small
    assert libraries.library(users.private_profile)


def test_playtimes_vary(world: Catalogue) -> None:
    users = build_users()
    owned = Libraries(world, users).library(users.large)

    assert any(g.playtime_forever == 0 for g in owned)
    assert any(g.playtime_forever > 600 for g in owned)
    assert any(g.playtime_deck > 0 for g in owned)
    assert any(g.playtime_mac > 0 for g in owned)
    assert any(g.rtime_last_played == 0 and g.playtime_forever > 0 for g in owned)


def test_pagination_app_joins_the_small_library() -> None:
    world = generate_catalogue(
        CatalogueConfig(seed=1, game_apps=300, igdb_only_games=10, pagination_rows=520)
    )
    users = build_users(with_pagination_app=True, unvetted_apps=unvetted_listed(world))
    truth = Libraries(world, users).ground_truth(users.small)
    engine = QueryEngine(IgdbStore(world.tables))
    uid = str(world.pagination_appid)

    page = engine.run(
        "external_games", parse_query(f'fields game; where uid = "{uid}"; limit 500;')
    )
    rest = engine.run(
        "external_games", parse_query(f'fields game; where uid = "{uid}"; limit 500; offset 500;')
    )

    assert users.small.expected_game_count == 27  # 25, the pagination app, an unvetted app
    assert len(truth) == 27
    assert world.pagination_appid in {t.appid for t in truth}
    assert (len(page), len(rest)) == (500, 20)


def test_wishlists_hold_an_owned_game_a_dlc_and_an_app_igdb_does_not_know(
    world: Catalogue,
) -> None:
    users = build_users(unvetted_apps=unvetted_listed(world))
    libraries = Libraries(world, users)
    wishlist = libraries.wishlist(users.small)
    owned = {g.app.appid for g in libraries.library(users.small)}
    assert len(wishlist) == 8
    assert [e.priority for e in wishlist] == list(range(8))
    assert sum(e.app.appid in owned for e in wishlist) == 1
    assert any(e.app.truth.kind.value == "DLC" for e in wishlist)
    assert any("unmatched" in e.app.truth.tags for e in wishlist)
    assert len(libraries.wishlist(users.large)) == 200
    assert libraries.wishlist(users.empty) == ()
    bought = next(e.app.appid for e in wishlist if e.app.appid not in owned)
    libraries.buy(users.small, bought)
    assert bought in {g.app.appid for g in libraries.library(users.small)}
    assert bought not in {e.app.appid for e in libraries.wishlist(users.small)}
    libraries.forget_purchases()
    assert libraries.wishlist(users.small) == wishlist
