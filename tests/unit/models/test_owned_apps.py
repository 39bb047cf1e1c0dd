"""Stage 1 reads an owned-games answer's compared values straight from its JSON when it
compares the library with a committed state. Whatever the answer holds, that reading must give
what the models give (the same fingerprint, count and names), or step aside for them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdas.errors import PrivateProfileError, UpstreamUnavailableError
from lambdas.steam.library import OwnedApps, _library_key, _validated_games

STEAM_ID = 76561197960287930


def answer(games: list[dict[str, Any]] | None, **response: Any) -> bytes:
    body = (
        dict(response) if games is None else {"game_count": len(games), "games": games, **response}
    )
    return json.dumps({"response": body}).encode()


def game(appid: Any, name: Any = "Game", **values: Any) -> dict[str, Any]:
    full = {
        "appid": appid,
        "name": name,
        "playtime_forever": 5,
        "playtime_2weeks": 1,
        "playtime_windows_forever": 5,
        "playtime_mac_forever": 0,
        "playtime_linux_forever": 0,
        "playtime_deck_forever": 0,
        "playtime_disconnected": 0,
        "rtime_last_played": 1_700_000_000,
        "img_icon_url": "abc",
        "has_community_visible_stats": True,
    }
    return full | values


ANSWERS = {
    "as Steam sends them": [game(730, 'Counter-Strike 2, "CS2"'), game(10, "日本 ™\nx"), game(440)],
    "unsorted, with a late one": [game(99), game(3), game(2**32 - 1)],
    "empty": [],
    "a number sent as text": [game(730, playtime_forever="12")],
    "a number sent as a float": [game(730, playtime_forever=12.0)],
    "a boolean for a number": [game(730, playtime_forever=True)],
    "a field missing": [{k: v for k, v in game(730).items() if k != "img_icon_url"}],
    "an app listed twice": [game(730, "First"), game(730, "Second"), game(10)],
    "an app id out of range": [game(0), game(2**32), game(-4), game(10)],
    "a playtime beyond the column": [game(730, playtime_forever=2**40)],
    "a negative playtime": [game(730, playtime_deck_forever=-1)],
    "a name holding NUL": [game(730, "Nul\u0000led"), game(10)],
    "an unknown field": [game(730, new_field={"x": 1})],
}


@pytest.mark.parametrize("games", ANSWERS.values(), ids=ANSWERS.keys())
def test_the_direct_reading_agrees_with_the_models(games: list[dict[str, Any]]) -> None:
    data = answer(games)
    validated = _validated_games(data, STEAM_ID)
    owned = OwnedApps.read(data, STEAM_ID)
    assert owned.fingerprint() == _library_key(validated)
    assert len(owned) == len(validated)
    apps = {g.appid for g in validated} | {12345}
    assert owned.names(apps) == {g.appid: g.name for g in validated}
    assert owned.games == validated


def test_an_answer_as_steam_sends_it_makes_no_model_until_one_is_used() -> None:
    """A field the fingerprint does not read is validated when the games are used: an unchanged
    library needs no model, an import still refuses an unreadable answer."""
    data = answer([game(730, has_community_visible_stats={"not": "a bool"}), game(10)])
    owned = OwnedApps.read(data, STEAM_ID)
    assert len(owned) == 2 and owned.names({730}) == {730: "Game"}
    owned.fingerprint()
    with pytest.raises(UpstreamUnavailableError, match="unreadable answer"):
        _ = owned.games


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (answer(None), PrivateProfileError),  # neither games nor a count: details private
        (b'{"response": {"games": [{"appid": "x"}]}}', UpstreamUnavailableError),
        (b"<html>not json</html>", UpstreamUnavailableError),
        (answer([game(730, "bad \ud800 name")]), UpstreamUnavailableError),
    ],
    ids=["private", "unreadable game", "not JSON", "a lone surrogate"],
)
def test_an_answer_the_models_refuse_is_refused_when_read(data: bytes, error: type) -> None:
    with pytest.raises(error):
        OwnedApps.read(data, STEAM_ID)


def test_a_count_without_games_is_an_empty_library() -> None:
    owned = OwnedApps.read(answer(None, game_count=0), STEAM_ID)
    assert len(owned) == 0 and owned.games == [] and owned.fingerprint() == _library_key([])
