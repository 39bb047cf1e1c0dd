"""What the pipeline relies on from the Steam Web API: GetOwnedGames, ResolveVanityURL and
GetPlayerSummaries, on both targets. Shapes and invariants only: playtimes and counts change."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from tests.contract.targets import Target

from lambdas.clients.steam import SteamClient
from lambdas.errors import ProfileNotFoundError

OWNED_GAMES = "/IPlayerService/GetOwnedGames/v1/"
_ICON_HASH = re.compile(r"(?:[0-9a-f]{40})?")


async def _get(target: Target, path: str, **params: str) -> httpx.Response:
    async with target.http(base_url=target.steam_base_url) as http:
        return await http.get(path, params={**params, "key": target.steam_api_key})


async def _owned(target: Target, steam_id: str, **params: str) -> Any:
    response = await _get(target, OWNED_GAMES, steamid=steam_id, format="json", **params)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def _assert_common_game_fields(game: dict[str, Any]) -> None:
    assert isinstance(game["appid"], int) and game["appid"] > 0
    assert isinstance(game["playtime_forever"], int) and game["playtime_forever"] >= 0
    assert isinstance(game["rtime_last_played"], int) and game["rtime_last_played"] >= 0
    assert "img_logo_url" not in game  # gone since 2022
    if "playtime_2weeks" in game:  # absent rather than 0
        assert 0 < game["playtime_2weeks"] <= game["playtime_forever"]


async def test_owned_games_with_and_without_app_info_and_played_free_games(
    target: Target,
) -> None:
    full = await _owned(
        target, target.library_steam_id, include_appinfo="1", include_played_free_games="1"
    )
    bare = await _owned(target, target.library_steam_id)

    body = full["response"]
    games = body["games"]
    assert body["game_count"] == len(games) > 0
    assert len({game["appid"] for game in games}) == len(games)
    for game in games:
        _assert_common_game_fields(game)
        assert isinstance(game["name"], str)
        assert isinstance(game["img_icon_url"], str) and _ICON_HASH.fullmatch(game["img_icon_url"])
        if "has_community_visible_stats" in game:
            assert isinstance(game["has_community_visible_stats"], bool)

    bare_games = bare["response"].get("games", [])
    assert bare["response"].get("game_count", 0) == len(bare_games)
    for game in bare_games:
        _assert_common_game_fields(game)
        assert "name" not in game and "img_icon_url" not in game
    # Played free-to-play games are the only difference the second flag makes.
    assert {game["appid"] for game in bare_games} <= {game["appid"] for game in games}


async def test_a_library_steam_will_not_show_is_an_empty_response(target: Target) -> None:
    """Private profile, private game details and nonexistent accounts all answer 200 `{}`: the
    pipeline tells them apart with GetPlayerSummaries, never from this answer."""
    for steam_id in target.hidden_steam_ids:
        body = await _owned(target, steam_id, include_appinfo="1", include_played_free_games="1")
        assert body == {"response": {}}, steam_id


async def test_an_empty_public_library_has_a_zero_count_and_no_games(target: Target) -> None:
    steam_id, params = target.empty_library
    body = (await _owned(target, steam_id, **params))["response"]
    assert body.get("game_count") == 0
    assert body.get("games", []) == []


async def test_resolve_vanity_url_gives_the_id_as_a_string(target: Target) -> None:
    response = await _get(target, "/ISteamUser/ResolveVanityURL/v1/", vanityurl=target.vanity)
    assert response.status_code == 200
    assert response.json() == {"response": {"steamid": target.vanity_steam_id, "success": 1}}


async def test_our_client_reads_an_unknown_custom_url_as_profile_not_found(
    target: Target,
) -> None:
    client = SteamClient(
        api_key=SecretStr(target.steam_api_key),
        base_url=target.steam_base_url,
        transport=target.transport(),
    )
    async with client as steam:
        with pytest.raises(ProfileNotFoundError):
            await steam.resolve_vanity(target.unknown_vanity)


async def test_player_summaries_omit_unknown_ids_and_show_visibility(target: Target) -> None:
    response = await _get(
        target,
        "/ISteamUser/GetPlayerSummaries/v2/",
        steamids=f"{target.library_steam_id},{target.nonexistent_steam_id}",
    )
    assert response.status_code == 200
    players = response.json()["response"]["players"]
    assert [player["steamid"] for player in players] == [target.library_steam_id]
    player = players[0]
    assert player["communityvisibilitystate"] == 3  # a public profile: the suite needs one
    assert isinstance(player["personaname"], str)
    assert player["profileurl"].startswith("https://steamcommunity.com/")
    assert isinstance(player["personastate"], int)


WISHLIST = "/IWishlistService/GetWishlist/v1/"


async def _wishlist(target: Target, steam_id: str) -> Any:
    """GetWishlist needs no key, so none is sent."""
    async with target.http(base_url=target.steam_base_url) as http:
        response = await http.get(WISHLIST, params={"steamid": steam_id})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


async def test_the_wishlist_lists_app_ids_with_priority_and_date_and_no_names(
    target: Target,
) -> None:
    body = await _wishlist(target, target.library_steam_id)
    assert set(body) == {"response"}
    items = body["response"].get("items", [])
    assert len({item["appid"] for item in items}) == len(items)
    for item in items:
        assert isinstance(item["appid"], int) and item["appid"] > 0
        assert isinstance(item.get("priority", 0), int) and item.get("priority", 0) >= 0
        assert isinstance(item.get("date_added", 0), int) and item.get("date_added", 0) >= 0
        assert "name" not in item  # the store names apps; the wishlist does not


async def test_a_wishlist_steam_will_not_show_has_no_items(target: Target) -> None:
    """Private and nonexistent alike: the pipeline says which by the profile's visibility."""
    for steam_id in target.hidden_steam_ids:
        body = await _wishlist(target, steam_id)
        assert not body["response"].get("items"), steam_id
