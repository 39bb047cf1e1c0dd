"""Steam client and stage 1 over a transport double: each error class, retries, no key leaks."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from lambdas.clients.http import RetryPolicy
from lambdas.clients.s3 import LocalStorage
from lambdas.clients.steam import SteamClient
from lambdas.config import Settings
from lambdas.errors import (
    ConfigurationError,
    InvalidSteamIdError,
    PipelineError,
    PrivateProfileError,
    ProfileNotFoundError,
    SteamAuthError,
    SteamRateLimitedError,
    UpstreamUnavailableError,
)
from lambdas.logging import configure_logging, register_secrets
from lambdas.models.csv_codec import decode_rows
from lambdas.models.rows import RawGameRow
from lambdas.models.steam import SteamAccountRef
from lambdas.steam.library import fetch_library, import_steam_library

BASE = "https://steam.test"
KEY = "FEEDFACE0123456789ABCDEFDEADBEEF"
STEAM_ID = 76561197960361544
SUMMARIES = "/ISteamUser/GetPlayerSummaries/v2/"
OWNED = "/IPlayerService/GetOwnedGames/v1/"
VANITY = "/ISteamUser/ResolveVanityURL/v1/"
FORBIDDEN_HTML = (
    "<html><head><title>Forbidden</title></head><body><h1>Forbidden</h1>Access is denied. "
    "Retrying will not help. Please verify your <pre>key=</pre> parameter.</body></html>"
)


def public_profile(steam_id: int = STEAM_ID, visibility: int = 3) -> dict[str, Any]:
    return {
        "response": {
            "players": [
                {
                    "steamid": str(steam_id),
                    "communityvisibilitystate": visibility,
                    "personaname": "Tester",
                    "profileurl": f"https://steamcommunity.com/profiles/{steam_id}/",
                }
            ]
        }
    }


OWNED_BODY = {
    "response": {
        "game_count": 3,
        "games": [
            {
                "appid": 620,
                "name": "Portal 2",
                "playtime_forever": 1234,
                "img_icon_url": "2e478fc6874d06ae5baf0d147f6f21203291aa02",
                "has_community_visible_stats": True,
                "playtime_windows_forever": 1200,
                "playtime_mac_forever": 0,
                "playtime_linux_forever": 34,
                "playtime_deck_forever": 0,
                "rtime_last_played": 1718000000,
                "playtime_disconnected": 0,
                "some_new_field": {"steam": "adds fields"},
            },
            {"appid": 400, "name": 'Portal, "the" original\n™ 🎮 ポータル', "playtime_forever": 0},
            {"appid": 730, "playtime_forever": 0, "playtime_2weeks": 15, "rtime_last_played": 0},
        ],
    }
}


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(base_url=BASE, assert_all_called=False)


def client(router: respx.MockRouter, *, attempts: int = 4) -> SteamClient:
    return SteamClient(
        api_key=SecretStr(KEY),
        base_url=BASE,
        retry=RetryPolicy(max_attempts=attempts, initial_wait=0.001, max_wait=0.005),
        transport=httpx.MockTransport(router.async_handler),
    )


async def fetch(router: respx.MockRouter, ref: SteamAccountRef, **kwargs: Any) -> Any:
    async with client(router, **kwargs) as steam:
        return await fetch_library(steam, ref)


async def test_fetches_library_via_vanity(router: respx.MockRouter) -> None:
    vanity = router.get(VANITY, params={"vanityurl": "tester"}).respond(
        json={"response": {"steamid": str(STEAM_ID), "success": 1}}
    )
    router.get(SUMMARIES, params={"steamids": str(STEAM_ID)}).respond(json=public_profile())
    owned = router.get(OWNED).respond(json=OWNED_BODY)

    library = await fetch(router, SteamAccountRef(vanity="tester"))

    assert vanity.call_count == 1
    assert library.owned.appids() == [400, 620, 730]  # sorted by app id
    query = owned.calls.last.request.url.params
    assert query["include_appinfo"] == "1"
    assert query["include_played_free_games"] == "1"
    assert query["steamid"] == str(STEAM_ID)
    assert query["key"] == KEY


async def test_unknown_vanity_is_profile_not_found(router: respx.MockRouter) -> None:
    router.get(VANITY).respond(json={"response": {"success": 42, "message": "No match"}})
    with pytest.raises(ProfileNotFoundError, match="nobody"):
        await fetch(router, SteamAccountRef(vanity="nobody"))


async def test_nonexistent_account(router: respx.MockRouter) -> None:
    router.get(SUMMARIES).respond(json={"response": {"players": []}})
    with pytest.raises(ProfileNotFoundError):
        await fetch(router, SteamAccountRef(steam_id64=STEAM_ID))


async def test_private_profile(router: respx.MockRouter) -> None:
    router.get(SUMMARIES).respond(json=public_profile(visibility=1))
    owned = router.get(OWNED).respond(json={"response": {}})
    with pytest.raises(PrivateProfileError, match=r"profile .* is private"):
        await fetch(router, SteamAccountRef(steam_id64=STEAM_ID))
    assert owned.call_count == 0


async def test_private_game_details(router: respx.MockRouter) -> None:
    router.get(SUMMARIES).respond(json=public_profile())
    router.get(OWNED).respond(json={"response": {}})
    with pytest.raises(PrivateProfileError, match="game details"):
        await fetch(router, SteamAccountRef(steam_id64=STEAM_ID))


@pytest.mark.parametrize(
    "body", [{"response": {"game_count": 0}}, {"response": {"game_count": 0, "games": []}}]
)
async def test_empty_library_is_not_an_error(
    router: respx.MockRouter, body: dict[str, Any]
) -> None:
    router.get(SUMMARIES).respond(json=public_profile())
    router.get(OWNED).respond(json=body)
    library = await fetch(router, SteamAccountRef(steam_id64=STEAM_ID))
    assert len(library.owned) == 0 and library.owned.raw_csv().count(b"\n") == 1  # header


async def test_bad_key_is_not_retried(router: respx.MockRouter) -> None:
    route = router.get(SUMMARIES).respond(403, html=FORBIDDEN_HTML)
    with pytest.raises(SteamAuthError) as info:
        await fetch(router, SteamAccountRef(steam_id64=STEAM_ID))
    assert route.call_count == 1
    assert info.value.code == "STEAM_AUTH_FAILED"


async def test_missing_key_answer(router: respx.MockRouter) -> None:
    router.get(SUMMARIES).respond(400, html="<html>Required parameter 'key' is missing</html>")
    with pytest.raises(SteamAuthError):
        await fetch(router, SteamAccountRef(steam_id64=STEAM_ID))


async def test_malformed_id_answer(router: respx.MockRouter) -> None:
    router.get(SUMMARIES).respond(400, html="<html><body>Bad Request</body></html>")
    with pytest.raises(InvalidSteamIdError):
        await fetch(router, SteamAccountRef(steam_id64=STEAM_ID))


async def test_wrong_base_url(router: respx.MockRouter) -> None:
    router.get(SUMMARIES).respond(404, html="<html>Not Found</html>")
    with pytest.raises(ConfigurationError, match="STEAM_API_BASE_URL"):
        await fetch(router, SteamAccountRef(steam_id64=STEAM_ID))


async def test_5xx_and_429_are_retried_then_succeed(router: respx.MockRouter) -> None:
    summaries = router.get(SUMMARIES)
    summaries.side_effect = [
        httpx.Response(503, text=""),
        httpx.Response(429, html="<html><h1>Too Many Requests</h1></html>"),
        httpx.Response(502, html="<html>Bad Gateway</html>"),
        httpx.Response(200, json=public_profile()),
    ]
    owned = router.get(OWNED)
    owned.side_effect = [httpx.ConnectTimeout("slow"), httpx.Response(200, json=OWNED_BODY)]
    library = await fetch(router, SteamAccountRef(steam_id64=STEAM_ID))
    assert summaries.call_count == 4
    assert owned.call_count == 2
    assert len(library.owned) == 3


async def test_persistent_429_is_rate_limited(router: respx.MockRouter) -> None:
    route = router.get(SUMMARIES).respond(429, html="<html>Too Many Requests</html>")
    with pytest.raises(SteamRateLimitedError) as info:
        await fetch(router, SteamAccountRef(steam_id64=STEAM_ID), attempts=3)
    assert route.call_count == 3
    assert info.value.transient


async def test_persistent_5xx_is_upstream_unavailable(router: respx.MockRouter) -> None:
    route = router.get(SUMMARIES).respond(500, text="")
    with pytest.raises(UpstreamUnavailableError):
        await fetch(router, SteamAccountRef(steam_id64=STEAM_ID), attempts=2)
    assert route.call_count == 2


async def test_timeouts_are_upstream_unavailable(router: respx.MockRouter) -> None:
    router.get(SUMMARIES).mock(side_effect=httpx.ReadTimeout("hung"))
    with pytest.raises(UpstreamUnavailableError, match="in time"):
        await fetch(router, SteamAccountRef(steam_id64=STEAM_ID), attempts=2)


async def test_unreadable_answer(router: respx.MockRouter) -> None:
    router.get(SUMMARIES).respond(200, text="<html>maintenance</html>")
    with pytest.raises(UpstreamUnavailableError, match="unreadable"):
        await fetch(router, SteamAccountRef(steam_id64=STEAM_ID))


async def test_retry_after_is_honoured() -> None:
    policy = RetryPolicy(initial_wait=0.5, max_wait=20)
    assert policy.wait_seconds(1, 3.0) == 3.0
    assert policy.wait_seconds(1, 99.0) == 20
    assert 0.25 <= policy.wait_seconds(1, None) <= 0.5
    assert 2.0 <= policy.wait_seconds(4, None) <= 4.0


async def test_stage_one_writes_raw_csv(router: respx.MockRouter, tmp_path: Path) -> None:
    router.get(SUMMARIES).respond(json=public_profile())
    router.get(OWNED).respond(json=OWNED_BODY)
    router.get("/IWishlistService/GetWishlist/v1/").respond(json={"response": {}})
    storage = LocalStorage(tmp_path)
    settings = Settings(
        steam_api_key=KEY, steam_api_base_url=BASE, retry_initial_wait_seconds=0.001
    )
    result = await import_steam_library(
        user_id="user-1",
        account="https://steamcommunity.com/profiles/76561197960361544/",
        settings=settings,
        storage=storage,
        now=__import__("datetime").datetime(2026, 1, 2, 3, 4, 5),
        import_id="abc123",
        transport=httpx.MockTransport(router.async_handler),
    )
    assert result.game_count == 3
    assert result.location.startswith("file://")
    assert result.location.endswith("/imports/user-1/20260102T030405000000Z-abc123-raw.csv")
    rows = decode_rows(storage.get(result.location, user_id="user-1"), RawGameRow)
    assert rows[0] == RawGameRow(appid=400, name='Portal, "the" original\n™ 🎮 ポータル')
    assert rows[1].playtime_linux_forever == 34
    assert rows[1].rtime_last_played == 1718000000
    assert rows[1].img_icon_url == "2e478fc6874d06ae5baf0d147f6f21203291aa02"
    assert rows[2] == RawGameRow(appid=730, name="", playtime_2weeks=15)
    assert result.wishlist.outcome.value == "empty"  # a public profile: empty, not private


FAILURES = [
    (SUMMARIES, httpx.Response(403, html=FORBIDDEN_HTML)),
    (SUMMARIES, httpx.Response(500, text=f"oops key={KEY}")),
    (SUMMARIES, httpx.Response(429, text="slow down")),
    (SUMMARIES, httpx.ConnectError(f"connection refused for {BASE}/x?key={KEY}")),
    (SUMMARIES, httpx.Response(200, text=f"not json {KEY}")),
    (OWNED, httpx.Response(200, json={"response": {}})),
]


@pytest.mark.parametrize(("path", "outcome"), FAILURES)
async def test_key_never_reaches_logs_or_errors(
    router: respx.MockRouter, path: str, outcome: Any, tmp_path: Path
) -> None:
    stream = io.StringIO()
    configure_logging(level="DEBUG", log_format="json", stream=stream)
    register_secrets([KEY])
    router.get(SUMMARIES).respond(json=public_profile())
    route = router.get(path)
    if isinstance(outcome, Exception):
        route.mock(side_effect=outcome)
    else:
        route.mock(return_value=outcome)
    settings = Settings(
        steam_api_key=KEY,
        steam_api_base_url=BASE,
        steam_max_attempts=2,
        retry_initial_wait_seconds=0.001,
    )
    with pytest.raises(PipelineError) as info:
        await import_steam_library(
            user_id="u1",
            account=str(STEAM_ID),
            settings=settings,
            storage=LocalStorage(tmp_path),
            now=__import__("datetime").datetime(2026, 1, 1),
            import_id="x",
            transport=httpx.MockTransport(router.async_handler),
        )
    error = info.value
    texts = [str(error), repr(error), error.message, stream.getvalue()]
    assert not any(KEY in text for text in texts)
    assert not any(KEY.lower() in text.lower() for text in texts)
    for line in stream.getvalue().splitlines():
        json.loads(line)  # every line is JSON
    assert not list(tmp_path.rglob("*.csv"))  # noqa: ASYNC240 - a failed fetch stores nothing
