"""The stage-1 Lambda handler: the response contract for success and every failure shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from pydantic import SecretStr
from tests.events import FakeLambdaContext, load_event

from lambdas.config import Settings
from lambdas.handlers.steam_import import handler
from lambdas.models.events import IgdbEnrichmentEvent, SteamImportResponse

BASE = "https://steam.test"
KEY = "0123456789abcdef0123456789abcdef"
STEAM_ID = "76561197960361544"


CONTEXT = FakeLambdaContext(function_name="steam-import")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        steam_api_key=SecretStr(KEY),
        steam_api_base_url=BASE,
        data_dir=tmp_path / "data",
        steam_max_attempts=2,
        retry_initial_wait_seconds=0.001,
    )


@pytest.fixture
def steam() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def profile(visibility: int = 3) -> dict[str, Any]:
    return {
        "response": {"players": [{"steamid": STEAM_ID, "communityvisibilitystate": visibility}]}
    }


def test_success(settings: Settings, steam: respx.MockRouter) -> None:
    steam.get("/ISteamUser/GetPlayerSummaries/v2/").respond(json=profile())
    steam.get("/IWishlistService/GetWishlist/v1/").respond(json={"response": {}})
    steam.get("/IPlayerService/GetOwnedGames/v1/").respond(
        json={"response": {"game_count": 1, "games": [{"appid": 10, "name": "Counter-Strike"}]}}
    )
    response = handler(load_event("steam_import"), CONTEXT, settings=settings)
    parsed = SteamImportResponse.model_validate(response)
    assert parsed.success is True
    assert parsed.game_count == 1
    assert parsed.error is None and parsed.error_code is None
    assert parsed.s3_location is not None and parsed.s3_location.startswith("file://")
    assert parsed.import_id is not None
    assert f"-{parsed.import_id[:8]}-raw.csv" in parsed.s3_location  # the key names the run
    assert list((settings.data_dir / "imports" / "u1").glob("*-raw.csv"))
    # Step Functions passes the whole response on: it is a valid stage-2 event.
    nxt = IgdbEnrichmentEvent.model_validate(response)
    assert nxt.s3_location == parsed.s3_location and nxt.user_id == "u1"


def test_import_id_from_event_is_kept(settings: Settings, steam: respx.MockRouter) -> None:
    steam.get("/ISteamUser/GetPlayerSummaries/v2/").respond(json=profile())
    steam.get("/IWishlistService/GetWishlist/v1/").respond(json={"response": {}})
    steam.get("/IPlayerService/GetOwnedGames/v1/").respond(json={"response": {"game_count": 0}})
    response = handler(
        {"user_id": "u1", "steam_id64": int(STEAM_ID), "import_id": "feedbeef"},
        CONTEXT,
        settings=settings,
    )
    assert response["success"] is True
    assert response["import_id"] == "feedbeef"
    assert response["game_count"] == 0
    assert "-feedbeef-raw.csv" in response["s3_location"]


def test_invalid_steam_id_touches_no_network(settings: Settings, steam: respx.MockRouter) -> None:
    response = handler({"user_id": "u1", "steam_id64": "not-an-id"}, CONTEXT, settings=settings)
    assert response["success"] is False
    assert response["error_code"] == "INVALID_STEAM_ID"
    assert "not-an-id" in response["error"]
    assert steam.calls.call_count == 0


def test_invalid_steam_id_without_any_configuration() -> None:
    # No injected settings: the container's own, from an environment that sets nothing.
    response = handler({"user_id": "u1", "steam_id64": "not-an-id"}, CONTEXT)
    assert response == {
        "success": False,
        "user_id": "u1",
        "import_id": response["import_id"],
        "error": response["error"],
        "error_code": "INVALID_STEAM_ID",
        "s3_location": None,
        "refresh_metadata": False,
        "game_count": 0,
        "steam_requests": 0,
        "steam_id64": None,
        "wishlist": "off",
        "wishlist_items": 0,
        "wishlist_reason": None,
        "wishlist_requests": 0,
        "unchanged": False,
        "s3_enriched_location": None,
        "previous_stats": None,
    }


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ({"user_id": "../etc", "steam_id64": STEAM_ID}, "INVALID_USER_ID"),
        ({"user_id": "a/b", "steam_id64": STEAM_ID}, "INVALID_USER_ID"),
        ({"steam_id64": STEAM_ID}, "INVALID_EVENT"),
        ({"user_id": "u1"}, "INVALID_EVENT"),
        ({"user_id": 5, "steam_id64": STEAM_ID}, "INVALID_EVENT"),
        ([], "INVALID_EVENT"),
        ({"user_id": "u1", "steam_id64": "x" * 10_000}, "INVALID_EVENT"),
    ],
)
def test_invalid_events(settings: Settings, steam: respx.MockRouter, event: Any, code: str) -> None:
    response = handler(event, CONTEXT, settings=settings)
    assert response["success"] is False
    assert response["error_code"] == code
    assert steam.calls.call_count == 0


@pytest.mark.parametrize(
    ("visibility", "owned", "code"),
    [
        (1, {"response": {}}, "PRIVATE_PROFILE"),
        (3, {"response": {}}, "PRIVATE_PROFILE"),
    ],
)
def test_permanent_failures_are_responses(
    settings: Settings, steam: respx.MockRouter, visibility: int, owned: Any, code: str
) -> None:
    steam.get("/ISteamUser/GetPlayerSummaries/v2/").respond(json=profile(visibility))
    steam.get("/IPlayerService/GetOwnedGames/v1/").respond(json=owned)
    response = handler({"user_id": "u1", "steam_id64": STEAM_ID}, CONTEXT, settings=settings)
    assert (response["success"], response["error_code"]) == (False, code)
    assert not list(settings.data_dir.rglob("*.csv"))


def test_not_found_and_auth(settings: Settings, steam: respx.MockRouter) -> None:
    steam.get("/ISteamUser/ResolveVanityURL/v1/").respond(
        json={"response": {"success": 42, "message": "No match"}}
    )
    unknown = handler({"user_id": "u1", "steam_id64": "nobody_here"}, CONTEXT, settings=settings)
    assert unknown["error_code"] == "PROFILE_NOT_FOUND"
    steam.get("/ISteamUser/GetPlayerSummaries/v2/").respond(403, html="<html>Forbidden</html>")
    response = handler({"user_id": "u1", "steam_id64": STEAM_ID}, CONTEXT, settings=settings)
    assert response["error_code"] == "STEAM_AUTH_FAILED"
    assert KEY not in str(response)


def test_missing_key_is_configuration_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    response = handler({"user_id": "u1", "steam_id64": STEAM_ID}, CONTEXT, settings=settings)
    assert response["error_code"] == "CONFIGURATION_ERROR"
    assert "STEAM_API_KEY" in response["error"]


@pytest.mark.parametrize(
    ("status", "exception"),
    [(503, "UpstreamUnavailableError"), (429, "SteamRateLimitedError")],
)
def test_transient_failures_raise_for_step_functions(
    settings: Settings, steam: respx.MockRouter, status: int, exception: str
) -> None:
    steam.get("/ISteamUser/GetPlayerSummaries/v2/").respond(status, text="")
    with pytest.raises(Exception) as info:  # noqa: PT011 - the class name is what Retry matches
        handler({"user_id": "u1", "steam_id64": STEAM_ID}, CONTEXT, settings=settings)
    assert type(info.value).__name__ == exception
    assert info.value.transient  # type: ignore[attr-defined]
