"""IGDB client over httpx.MockTransport: app tokens refreshed once, 429 pauses, the lifecycle."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from lambdas.clients.http import RetryPolicy
from lambdas.clients.igdb import IgdbClient, ProcessCaches
from lambdas.clients.rate_limit import RateLimiter
from lambdas.errors import IgdbAuthError, IgdbRateLimitedError, UpstreamUnavailableError

GAMES = [{"id": 7, "name": "Half-Life", "game_type": 0}]


class Upstream:
    """Twitch issues numbered tokens; IGDB accepts only those in `valid`, else 401."""

    def __init__(self, igdb: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.issued = 0
        self.valid: set[str] = set()
        self.seen_tokens: list[str] = []
        self.igdb = igdb or (lambda request: httpx.Response(200, json=GAMES))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "twitch.test":
            self.issued += 1
            token = f"token-{self.issued}"
            self.valid.add(token)
            return httpx.Response(200, json={"access_token": token, "expires_in": 3600})
        token = request.headers["Authorization"].removeprefix("Bearer ")
        self.seen_tokens.append(token)
        if token not in self.valid:
            return httpx.Response(401, json={"message": "Authorization Failure"})
        return self.igdb(request)


class RecordingLimiter(RateLimiter):
    """The real limiter, remembering each pause it was asked for."""

    def __init__(self, *, per_second: int, max_in_flight: int) -> None:
        super().__init__(per_second=per_second, max_in_flight=max_in_flight)
        self.paused: list[float] = []

    def pause(self, seconds: float) -> None:
        self.paused.append(seconds)
        super().pause(seconds)


def client(upstream: Upstream, *, limiter: RateLimiter | None = None) -> IgdbClient:
    return IgdbClient(
        client_id="client-id",
        client_secret=SecretStr("client-secret"),
        base_url="https://igdb.test/v4",
        token_url="https://twitch.test/oauth2/token",
        retry=RetryPolicy(max_attempts=3, initial_wait=0.001, max_wait=0.002),
        limiter=limiter or RateLimiter(per_second=100, max_in_flight=4),
        caches=ProcessCaches(ttl=60),
        transport=httpx.MockTransport(upstream),
    )


async def test_a_token_is_fetched_once_and_reused() -> None:
    upstream = Upstream()
    async with client(upstream) as igdb:
        await igdb.search_games("Half-Life")
        await igdb.search_games("Portal")
    assert upstream.issued == 1
    assert upstream.seen_tokens == ["token-1", "token-1"]


async def test_a_refused_token_is_refreshed_exactly_once() -> None:
    upstream = Upstream()
    async with client(upstream) as igdb:
        await igdb.search_games("Half-Life")
        upstream.valid.clear()  # revoked mid-run
        found = await igdb.search_games("Half-Life")
    assert [game.id for game in found] == [7]
    assert upstream.issued == 2
    assert upstream.seen_tokens == ["token-1", "token-1", "token-2"]


async def test_a_fresh_token_refused_again_is_an_auth_error() -> None:
    upstream = Upstream(igdb=lambda request: httpx.Response(401, json={"message": "nope"}))
    async with client(upstream) as igdb:
        with pytest.raises(IgdbAuthError, match="freshly issued token"):
            await igdb.search_games("Half-Life")
    assert upstream.issued == 2  # once, then once more: never a loop


async def test_bad_credentials_are_an_auth_error_without_the_secret() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"message": "invalid client secret"})

    async with IgdbClient(
        client_id="client-id",
        client_secret=SecretStr("client-secret"),
        token_url="https://twitch.test/oauth2/token",
        transport=httpx.MockTransport(refuse),
    ) as igdb:
        with pytest.raises(IgdbAuthError, match="invalid client secret") as info:
            await igdb.search_games("Half-Life")
    assert "client-secret" not in str(info.value)


async def test_429_pauses_the_shared_limiter_then_succeeds() -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "0.002"})]  # = the policy's max wait

    def igdb(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if answers else httpx.Response(200, json=GAMES)

    limiter = RecordingLimiter(per_second=100, max_in_flight=4)
    async with client(Upstream(igdb), limiter=limiter) as igdb_client:
        found = await igdb_client.search_games("Half-Life")
    assert [game.id for game in found] == [7]
    assert limiter.paused == [0.002]  # Retry-After honoured, for every coroutine of the client id


async def test_429_to_the_end_is_rate_limited() -> None:
    upstream = Upstream(igdb=lambda request: httpx.Response(429, headers={"Retry-After": "0"}))
    async with client(upstream) as igdb:
        with pytest.raises(IgdbRateLimitedError) as info:
            await igdb.search_games("Half-Life")
    assert info.value.__cause__ is not None


async def test_unreadable_multiquery_answer_is_transient_and_chained() -> None:
    upstream = Upstream(igdb=lambda request: httpx.Response(200, text="<html>oops</html>"))
    async with client(upstream) as igdb:
        with pytest.raises(UpstreamUnavailableError, match="unreadable multiquery") as info:
            await igdb.get_games_by_ids([1, 2, 3])
    assert info.value.__cause__ is not None


async def test_using_the_client_unopened_is_an_error_even_under_python_O() -> None:
    igdb = client(Upstream())
    with pytest.raises(RuntimeError, match="async context manager"):
        await igdb.search_games("Half-Life")
