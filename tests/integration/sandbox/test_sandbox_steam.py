"""The sandbox's Steam Web API over real HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from steam_sandbox import MatchStatus, Sandbox
from steam_sandbox.responses import INVALID_KEY_TEXT

OWNED = "/IPlayerService/GetOwnedGames/v1/"
STEAM_DEFAULT = {"include_appinfo": 1, "include_played_free_games": 1}
#: What stage 1 asks: unvetted apps too (Steam hides them by default).
DEFAULT = {**STEAM_DEFAULT, "skip_unvetted_apps": 0}


def games(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json()["response"].get("games", []))


@pytest.mark.parametrize(
    "path",
    [
        "/IPlayerService/GetOwnedGames/v1/",
        "/IPlayerService/GetOwnedGames/v0001/",
        "/IPlayerService/GetOwnedGames/v1",
    ],
)
def test_owned_games_paths_return_the_medium_library(steam: Any, sb: Sandbox, path: str) -> None:
    response = steam.get(path, steamid=sb.users.medium.steamid64, **DEFAULT)

    body = response.json()["response"]
    assert response.headers["x-eresult"] == "1"
    assert body["game_count"] == len(body["games"]) == sb.users.medium.expected_game_count == 505
    appids = [g["appid"] for g in body["games"]]
    assert appids == sorted(appids)
    assert appids == [t.appid for t in sb.ground_truth("medium")]


def test_field_presence_rules(steam: Any, sb: Sandbox) -> None:
    listed = games(steam.owned(sb.users.large.steamid64, **DEFAULT))

    assert all("img_logo_url" not in g for g in listed)
    assert all(g.get("playtime_2weeks", 1) > 0 for g in listed)
    assert any("playtime_2weeks" in g for g in listed)
    assert any(g["rtime_last_played"] == 0 for g in listed)
    assert any(g["playtime_forever"] == 0 for g in listed)
    assert any(g["playtime_deck_forever"] > 0 for g in listed)
    for g in listed:
        assert isinstance(g["name"], str)
        assert len(g["img_icon_url"]) in (0, 40)
        assert g.get("has_community_visible_stats", True) is True
        parts = ("windows", "mac", "linux")
        total = sum(g[f"playtime_{p}_forever"] for p in parts) + g["playtime_disconnected"]
        assert total == g["playtime_forever"]
        assert "capsule_filename" not in g
        if g["playtime_forever"] == 0:
            assert g["rtime_last_played"] == 0


def test_without_appinfo_there_are_no_names(steam: Any, sb: Sandbox) -> None:
    listed = games(steam.owned(sb.users.small.steamid64, include_played_free_games=1))

    assert listed
    assert all("name" not in g and "img_icon_url" not in g for g in listed)


def test_extended_appinfo_needs_appinfo(steam: Any, sb: Sandbox) -> None:
    user = sb.users.small.steamid64
    extended = games(steam.owned(user, include_extended_appinfo=1, **DEFAULT))
    alone = games(steam.owned(user, include_extended_appinfo=1, include_played_free_games=1))

    assert all(g["capsule_filename"] == "library_600x900.jpg" for g in extended)
    assert all({"has_workshop", "has_market", "has_dlc"} <= g.keys() for g in extended)
    assert all("capsule_filename" not in g for g in alone)


@pytest.mark.parametrize(("true", "false"), [("1", "0"), ("true", "false"), ("True", "FALSE")])
def test_booleans_accept_both_spellings(steam: Any, sb: Sandbox, true: str, false: str) -> None:
    user = sb.users.medium.steamid64
    on = games(steam.owned(user, include_appinfo=true, include_played_free_games=true))
    off = games(steam.owned(user, include_appinfo=true, include_played_free_games=false))

    assert len(on) == 500
    f2p = {t.appid for t in sb.ground_truth("medium") if "f2p" in t.tags}
    assert f2p
    assert {g["appid"] for g in off} == {g["appid"] for g in on} - f2p


def test_invalid_boolean_is_400(steam: Any, sb: Sandbox) -> None:
    response = steam.owned(sb.users.small.steamid64, include_appinfo="maybe")

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")


def test_free_sub_and_unvetted_apps_are_hidden_by_default(steam: Any, sb: Sandbox) -> None:
    user = sb.users.medium.steamid64
    default = {g["appid"] for g in games(steam.owned(user, **STEAM_DEFAULT))}
    free_sub = {g["appid"] for g in games(steam.owned(user, include_free_sub=1, **STEAM_DEFAULT))}
    unvetted = {g["appid"] for g in games(steam.owned(user, **DEFAULT))}

    assert default < free_sub
    assert default < unvetted
    assert free_sub - default != unvetted - default


def test_appids_filter_indexed_and_input_json(steam: Any, sb: Sandbox) -> None:
    user = sb.users.medium.steamid64
    wanted = [t.appid for t in sb.ground_truth("medium")[:3]]
    indexed = {f"appids_filter[{i}]": appid for i, appid in enumerate(wanted)}
    by_index = games(steam.owned(user, **indexed, **DEFAULT))
    payload = {"steamid": user, "include_appinfo": True, "appids_filter": wanted}
    by_json = games(steam.get(OWNED, input_json=json.dumps(payload), include_played_free_games=1))

    assert [g["appid"] for g in by_index] == wanted
    assert [g["appid"] for g in by_json] == wanted
    assert all("name" in g for g in by_json)


@pytest.mark.parametrize("name", ["private_profile", "private_games", "nonexistent"])
def test_hidden_or_missing_libraries_are_an_empty_response(
    steam: Any, sb: Sandbox, name: str
) -> None:
    response = steam.owned(sb.users.by_name(name).steamid64, **DEFAULT)

    assert response.status_code == 200
    assert response.json() == {"response": {}}


@pytest.mark.parametrize(
    ("mode", "body"),
    [
        (None, {"response": {"game_count": 0}}),
        ("empty_response", {"response": {}}),
        ("empty_games_list", {"response": {"game_count": 0, "games": []}}),
    ],
)
def test_empty_library(steam: Any, sb: Sandbox, mode: str | None, body: Any) -> None:
    if mode:
        sb.set_knobs(steam={"empty_library_body": mode})

    response = steam.owned(sb.users.empty.steamid64, **DEFAULT)

    assert response.status_code == 200
    assert response.json() == body


@pytest.mark.parametrize("steamid", ["gabelogannewell", "7656119x", "-1", "99999999999999999999"])
def test_malformed_steamid_is_400_html(steam: Any, steamid: str) -> None:
    response = steam.owned(steamid)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")


def test_malformed_steamid_can_be_answered_200(steam: Any, sb: Sandbox) -> None:
    sb.set_knobs(steam={"malformed_steamid_status": 200})

    assert steam.owned("not-an-id").json() == {"response": {}}


def test_missing_steamid_is_400(steam: Any) -> None:
    response = steam.get(OWNED)

    assert response.status_code == 400
    assert "steamid" in response.text


def test_invalid_key_is_403_access_denied(steam: Any, sb: Sandbox) -> None:
    response = steam.owned(sb.users.small.steamid64, key="0" * 32)

    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert INVALID_KEY_TEXT in response.text
    assert "Access is denied. Retrying will not help." in response.text


@pytest.mark.parametrize("status", [None, 401, 403])
def test_missing_key(http: httpx.Client, sb: Sandbox, status: int | None) -> None:
    if status:
        sb.set_knobs(steam={"missing_key_status": status})

    response = http.get(OWNED, params={"steamid": sb.users.small.steamid64})

    assert response.status_code == (status or 400)
    assert response.headers["content-type"].startswith("text/html")


def test_unknown_path_is_404_html(steam: Any) -> None:
    response = steam.get("/ISteamUser/GetFriendList/v1/")

    assert response.status_code == 404
    assert "<html>" in response.text


def test_resolve_vanity(steam: Any, sb: Sandbox) -> None:
    path = "/ISteamUser/ResolveVanityURL/v1/"
    found = steam.get(path, vanityurl=sb.users.huge.vanity)
    upper = steam.get(path, vanityurl=str(sb.users.huge.vanity).upper())
    missing = steam.get(path, vanityurl="nobody-here-at-all")

    assert found.json() == {"response": {"steamid": sb.users.huge.steamid64, "success": 1}}
    assert upper.json() == found.json()
    assert missing.status_code == 200
    assert missing.json() == {"response": {"success": 42, "message": "No match"}}
    assert found.headers["x-eresult"] == "1"


def test_player_summaries(steam: Any, sb: Sandbox) -> None:
    ids = [
        sb.users.small.steamid64,
        sb.users.private_profile.steamid64,
        sb.users.nonexistent.steamid64,
    ]

    response = steam.get("/ISteamUser/GetPlayerSummaries/v2/", steamids=",".join(ids))

    players = {p["steamid"]: p for p in response.json()["response"]["players"]}
    assert set(players) == set(ids[:2])
    assert players[ids[0]]["communityvisibilitystate"] == 3
    assert players[ids[1]]["communityvisibilitystate"] == 1
    assert all(isinstance(p["steamid"], str) for p in players.values())
    assert players[ids[0]]["profileurl"].endswith(f"/id/{sb.users.small.vanity}/")
    assert "timecreated" not in players[ids[1]]


def test_player_summaries_all_unknown_and_too_many(steam: Any, sb: Sandbox) -> None:
    path = "/ISteamUser/GetPlayerSummaries/v2/"
    unknown = steam.get(path, steamids=sb.users.nonexistent.steamid64)
    too_many = steam.get(path, steamids=",".join(str(76561197960265728 + i) for i in range(101)))

    assert unknown.json() == {"response": {"players": []}}
    assert too_many.status_code == 400


def test_daily_key_limit(steam: Any, sb: Sandbox) -> None:
    sb.set_knobs(steam={"daily_limit": 2})
    user = sb.users.small.steamid64

    statuses = [steam.owned(user).status_code for _ in range(3)]
    limited = steam.owned(user)

    assert statuses == [200, 200, 429]
    assert "Too Many Requests" in limited.text
    assert "retry-after" not in limited.headers
    assert sb.stats().rate_limited["steam"] == 2


def test_short_window_limit_in_403_mode(steam: Any, sb: Sandbox) -> None:
    sb.set_knobs(steam={"window_limit": 1, "window_seconds": 3600, "rate_limit_status": 403})
    user = sb.users.small.steamid64

    first, second = steam.owned(user), steam.owned(user)

    assert first.status_code == 200
    assert second.status_code == 403


def test_rate_limit_can_be_switched_off(steam: Any, sb: Sandbox) -> None:
    sb.set_knobs(steam={"daily_limit": 0, "rate_limit_enabled": False})

    assert steam.owned(sb.users.small.steamid64).status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503])
def test_injected_server_errors(steam: Any, sb: Sandbox, status: int) -> None:
    sb.set_knobs(steam={"error_rate": 1.0, "error_statuses": [status]})

    response = steam.owned(sb.users.small.steamid64)

    assert response.status_code == status
    assert sb.stats().faults["steam"]["error"] == 1


def test_faults_are_reproducible_for_a_seed(steam: Any, sb: Sandbox) -> None:
    def run() -> list[int]:
        sb.reset(knobs=False)
        return [steam.owned(sb.users.small.steamid64).status_code for _ in range(20)]

    sb.set_knobs(steam={"error_rate": 0.3, "burst_429_rate": 0.2})

    first, second = run(), run()

    assert first == second
    assert {200, 429} <= set(first)
    assert set(first) & {500, 502, 503}


def test_hang_outlasts_a_client_timeout(sb: Sandbox) -> None:
    sb.set_knobs(steam={"hang_probability": 1.0, "hang_seconds": 3})

    with (
        httpx.Client(base_url=sb.base_url, timeout=0.3) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get(OWNED, params={"key": sb.steam_api_key, "steamid": sb.users.small.steamid64})


def test_stats_count_requests_per_endpoint_and_status(steam: Any, sb: Sandbox) -> None:
    steam.owned(sb.users.small.steamid64)
    steam.owned(sb.users.small.steamid64, key="bad")
    steam.get("/ISteamUser/ResolveVanityURL/v1/", vanityurl="x")

    stats = sb.stats()

    assert stats.requests["steam"]["GetOwnedGames"] == {"200": 1, "403": 1}
    assert stats.total("steam", "ResolveVanityURL", 200) == 1


def test_ground_truth_matches_the_listed_apps(steam: Any, sb: Sandbox) -> None:
    listed = games(steam.owned(sb.users.small.steamid64, **DEFAULT))
    truth = sb.ground_truth(sb.users.small)

    assert [(g["appid"], g["name"]) for g in listed] == [(t.appid, t.name) for t in truth]
    assert {t.status for t in truth} == set(MatchStatus)
