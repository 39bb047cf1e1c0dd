"""One retry rule for every client: 503 is retried, 501 (and 505) are not, Steam and IGDB alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

import httpx
import pytest
from pydantic import SecretStr

from lambdas.clients.http import RetryPolicy
from lambdas.clients.igdb import IgdbClient
from lambdas.clients.rate_limit import RateLimiter
from lambdas.clients.steam import SteamClient
from lambdas.errors import UpstreamUnavailableError

TOKEN = {"access_token": "t0k3n-value", "expires_in": 3600, "token_type": "bearer"}
SUMMARIES = {"response": {"players": [{"steamid": "76561197960361544"}]}}
FAST = RetryPolicy(max_attempts=3, initial_wait=0.001, max_wait=0.002)

Call = Callable[[httpx.MockTransport], Awaitable[object]]


async def call_steam(transport: httpx.MockTransport) -> object:
    async with SteamClient(
        api_key=SecretStr("k" * 32), base_url="https://steam.test", retry=FAST, transport=transport
    ) as steam:
        return await steam.get_player_summaries([76561197960361544])


async def call_igdb(transport: httpx.MockTransport) -> object:
    async with IgdbClient(
        client_id="id",
        client_secret=SecretStr("secret-value"),
        base_url="https://igdb.test/v4",
        token_url="https://twitch.test/oauth2/token",
        retry=FAST,
        limiter=RateLimiter(per_second=100, max_in_flight=4),
        transport=transport,
    ) as igdb:
        return await igdb.search_games("Half-Life")


CLIENTS = {
    "steam": (call_steam, "/ISteamUser/GetPlayerSummaries/v2/", SUMMARIES),
    "igdb": (call_igdb, "/v4/games", [{"id": 1, "name": "Half-Life"}]),
}


def upstream(
    path: str, body: object, statuses: list[int]
) -> tuple[httpx.MockTransport, Counter[str]]:
    """Answers `path` with `statuses` in turn, then 200 with `body`; Twitch always issues tokens."""
    calls: Counter[str] = Counter()
    remaining = list(statuses)

    def handle(request: httpx.Request) -> httpx.Response:
        calls[request.url.path] += 1
        if request.url.path == "/oauth2/token":
            return httpx.Response(200, json=TOKEN)
        if request.url.path != path:
            return httpx.Response(404)
        if remaining:
            return httpx.Response(remaining.pop(0), text="")
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle), calls


@pytest.mark.parametrize("client", list(CLIENTS))
async def test_503_is_retried(client: str) -> None:
    call, path, body = CLIENTS[client]
    transport, calls = upstream(path, body, [503, 503])
    assert await call(transport)
    assert calls[path] == 3


@pytest.mark.parametrize("status", [501, 505])
@pytest.mark.parametrize("client", list(CLIENTS))
async def test_501_and_505_are_not_retried(client: str, status: int) -> None:
    call, path, body = CLIENTS[client]
    transport, calls = upstream(path, body, [status])
    with pytest.raises(UpstreamUnavailableError, match=f"HTTP {status}"):
        await call(transport)
    assert calls[path] == 1


@pytest.mark.parametrize("client", list(CLIENTS))
async def test_retries_are_bounded(client: str) -> None:
    call, path, body = CLIENTS[client]
    transport, calls = upstream(path, body, [503] * 10)
    with pytest.raises(UpstreamUnavailableError, match="HTTP 503"):
        await call(transport)
    assert calls[path] == FAST.max_attempts
