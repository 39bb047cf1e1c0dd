"""What the pipeline relies on from Twitch and IGDB v4: the app token, `external_games` by Steam
uid, multiquery, `game_type`, cover `image_id` and the 400 for a bad query, on both targets."""

from __future__ import annotations

import re
from typing import Any

from pydantic import SecretStr
from tests.contract.targets import Target, igdb_headers, igdb_token, token_answer

from lambdas.clients.igdb import IgdbClient, ProcessCaches
from lambdas.enrichment.ranking import choose_entry

STEAM_SOURCE = 1
# game_type ids the pipeline decides by (a main game, or an entry that is no game of its own).
GAME_TYPES_RELIED_ON = {0: "Main Game", 1: "DLC", 3: "Bundle", 5: "Mod", 13: "Pack / Addon"}
_IMAGE_ID = re.compile(r"[a-z0-9]+")


def _uids(target: Target) -> str:
    return ",".join(f'"{app_id}"' for app_id in target.igdb_app_ids)


async def _igdb(target: Target, path: str, body: str) -> Any:
    async with target.http() as http:
        token = await igdb_token(target, http)
        return await http.post(
            f"{target.igdb_base_url}{path}", content=body, headers=igdb_headers(target, token)
        )


async def test_twitch_issues_an_app_token_without_refresh(target: Target) -> None:
    async with target.http() as http:
        status, body = await token_answer(target, http)  # the one token request of the run
    assert status == 200
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 3600
    assert body["token_type"] == "bearer"
    assert "refresh_token" not in body


async def test_external_games_by_steam_uid_are_strings_pointing_at_games(
    target: Target,
) -> None:
    response = await _igdb(
        target,
        "/external_games",
        f"fields uid,game,external_game_source; "
        f"where external_game_source = {STEAM_SOURCE} & uid = ({_uids(target)}); limit 50;",
    )
    assert response.status_code == 200
    rows = response.json()
    assert isinstance(rows, list)
    asked = {str(app_id) for app_id in target.igdb_app_ids}
    for row in rows:
        assert isinstance(row["id"], int)
        assert isinstance(row["uid"], str) and row["uid"] in asked  # a string, never a number
        assert isinstance(row["game"], int)  # a reference is an id unless expanded
        assert row["external_game_source"] == STEAM_SOURCE
    assert {row["uid"] for row in rows} == asked  # each well-known app is mapped


async def test_multiquery_answers_each_block_in_order_with_types_and_covers(
    target: Target,
) -> None:
    body = "\n".join(
        (
            f'query external_games "links" {{ fields uid,game.name,game.game_type,'
            f"game.cover.image_id,game.version_parent; where external_game_source = "
            f"{STEAM_SOURCE} & uid = ({_uids(target)}); sort id asc; limit 50; }};",
            'query game_types "types" { fields id,type; sort id asc; limit 50; };',
            'query games/count "main_games" { where game_type = 0; };',
        )
    )
    response = await _igdb(target, "/multiquery", body)
    assert response.status_code == 200
    links, types, count = response.json()
    assert [links["name"], types["name"], count["name"]] == ["links", "types", "main_games"]

    known = {row["id"]: row["type"] for row in types["result"]}
    assert GAME_TYPES_RELIED_ON.items() <= known.items()
    assert isinstance(count["count"], int) and count["count"] > 0

    games = [row["game"] for row in links["result"]]
    assert games and all(isinstance(game, dict) for game in games)  # expanded: objects
    for game in games:
        assert isinstance(game["id"], int) and isinstance(game["name"], str)
        if "game_type" in game:
            assert game["game_type"] in known
        if "cover" in game:
            assert set(game["cover"]) == {"id", "image_id"}
            assert _IMAGE_ID.fullmatch(game["cover"]["image_id"])
    assert any(game.get("game_type") == 0 and "cover" in game for game in games)


async def test_a_bad_query_is_a_400_array_naming_the_cause(target: Target) -> None:
    response = await _igdb(target, "/games", "fields name; where name = Portal;")
    assert response.status_code == 400
    errors = response.json()
    assert isinstance(errors, list) and errors
    assert errors[0]["status"] == 400
    assert isinstance(errors[0]["title"], str) and errors[0]["title"]
    assert isinstance(errors[0]["cause"], str) and errors[0]["cause"]


async def test_our_client_finds_a_main_game_for_each_well_known_app(target: Target) -> None:
    caches = ProcessCaches(ttl=60)
    async with target.http() as http:  # the session's token, so this costs one request
        token = await igdb_token(target, http)
    caches.tokens.put((target.twitch_token_url, target.igdb_client_id), token, ttl=600)
    client = IgdbClient(
        client_id=target.igdb_client_id,
        client_secret=SecretStr(target.igdb_client_secret),
        base_url=target.igdb_base_url,
        token_url=target.twitch_token_url,
        caches=caches,
        transport=target.transport(),
    )
    async with client as igdb:
        lookup = await igdb.lookup_steam_apps(target.igdb_app_ids)
        assert igdb.requests_sent == 1
    assert set(lookup.by_app_id) == set(target.igdb_app_ids)
    for app_id, games in lookup.by_app_id.items():
        game = choose_entry(games)
        assert game is not None, app_id
        assert game.name and game.version_parent is None
