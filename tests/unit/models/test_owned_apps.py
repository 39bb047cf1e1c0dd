"""Stage 1 reads an owned-games answer's stored values straight from its JSON, without a model
per game. Whatever the answer holds, that reading must give what the models give (the same raw
CSV, fingerprint, count and names), or step aside for them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdas.errors import PrivateProfileError, UpstreamUnavailableError
from lambdas.models.csv_codec import encode_rows
from lambdas.models.library_state import library_fingerprint
from lambdas.models.rows import RawGameRow
from lambdas.steam import library
from lambdas.steam.library import OwnedApps, _unique_by_appid, _validated_games, to_raw_row

STEAM_ID = 76561197960287930


def answer(games: list[dict[str, Any]] | None, **response: Any) -> bytes:
    body = dict(response)
    if games is not None:
        body |= {"game_count": len(games), "games": games}
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


def without(entry: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key not in names}


#: Answers read straight from the JSON: every stored field as the models hold it.
DIRECT = {
    "as the sandbox sends them": [game(730, 'Counter-Strike 2, "CS2"'), game(10, "日本 ™\nx")],
    "unsorted, with the last app id": [game(99), game(3), game(2**32 - 1)],
    "what Steam leaves out when zero or false": [
        without(game(620), "playtime_2weeks", "has_community_visible_stats"),
        without(game(400, has_community_visible_stats=False), "playtime_disconnected"),
    ],
    "fields nobody stores": [game(730, capsule_filename="x.jpg", content_descriptorids=[2, 5])],
    "empty": [],
}
#: Answers the models must read: they coerce, default, drop or clean something.
MODELS = {
    "a number sent as text": [game(730, playtime_forever="12")],
    "a number sent as a float": [game(730, playtime_forever=12.0)],
    "a boolean for a number": [game(730, playtime_forever=True)],
    "a number for a boolean": [game(730, has_community_visible_stats=1)],
    "a name missing": [without(game(730), "name")],
    "a compared field missing": [without(game(730), "rtime_last_played")],
    "an app listed twice": [game(730, "First"), game(730, "Second"), game(10)],
    "an app id out of range": [game(0), game(2**32), game(-4), game(10)],
    "a playtime beyond the column": [game(730, playtime_forever=2**40)],
    "a negative two-week playtime": [game(730, playtime_2weeks=-1)],
    "a last-played time beyond the column": [game(730, rtime_last_played=2**33)],
    "a name holding NUL": [game(730, "Nul\u0000led"), game(10)],
}


def by_models(data: bytes) -> list[RawGameRow]:
    """The raw rows as the models make them: validated, one per app id, in app id order."""
    games = sorted(_unique_by_appid(_validated_games(data, STEAM_ID)), key=lambda g: g.appid)
    return [to_raw_row(entry) for entry in games]


def assert_as_the_models(owned: OwnedApps, rows: list[RawGameRow]) -> None:
    assert owned.raw_csv() == encode_rows(rows, RawGameRow)
    assert owned.fingerprint() == library_fingerprint(rows)
    assert len(owned) == len(rows)
    assert owned.appids() == [row.appid for row in rows]
    asked = {row.appid for row in rows[::2]} | {12345}
    assert owned.names(asked) == {row.appid: row.name for row in rows if row.appid in asked}


@pytest.mark.parametrize("games", DIRECT.values(), ids=DIRECT.keys())
def test_an_answer_as_steam_sends_it_is_read_without_models(
    games: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = answer(games)
    rows = by_models(data)
    monkeypatch.setattr(library, "_validated_games", lambda *_: pytest.fail("models used"))
    assert_as_the_models(OwnedApps.read(data, STEAM_ID), rows)


@pytest.mark.parametrize("games", MODELS.values(), ids=MODELS.keys())
def test_any_other_answer_is_read_by_the_models(games: list[dict[str, Any]]) -> None:
    data = answer(games)
    assert_as_the_models(OwnedApps.read(data, STEAM_ID), by_models(data))


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (answer(None), PrivateProfileError),  # neither games nor a count: details private
        (b'{"response": {"games": [{"appid": "x"}]}}', UpstreamUnavailableError),
        (answer([game(730, has_community_visible_stats={"x": 1})]), UpstreamUnavailableError),
        (b"<html>not json</html>", UpstreamUnavailableError),
        (b'{"response": {"game_count": 0, "games": {}}}', UpstreamUnavailableError),
        (answer([game(730, "bad \ud800 name")]), UpstreamUnavailableError),
    ],
    ids=[
        "private",
        "unreadable app id",
        "unreadable flag",
        "not JSON",
        "games not a list",
        "a lone surrogate",
    ],
)
def test_an_answer_the_models_refuse_is_refused(data: bytes, error: type) -> None:
    with pytest.raises(error):
        OwnedApps.read(data, STEAM_ID)


def test_a_count_without_games_is_an_empty_library() -> None:
    owned = OwnedApps.read(answer(None, game_count=0), STEAM_ID)
    assert_as_the_models(owned, [])
