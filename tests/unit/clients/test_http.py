"""The shared retry policy: wait maths, Retry-After parsing, and translating what it gave up on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from lambdas.clients.budget import budget_left, budget_share, time_budget
from lambdas.clients.http import (
    RETRYABLE_STATUS,
    HttpLimits,
    RetryableResponseError,
    RetryPolicy,
    parse_retry_after,
    raise_if_retryable,
    upstream_errors,
)
from lambdas.clients.steam import SteamClient
from lambdas.config import STEAM_API_BASE_URL
from lambdas.errors import ConfigurationError, SteamRateLimitedError, UpstreamUnavailableError


def answer(status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 0.25, 0.5), (2, 0.5, 1.0), (3, 1.0, 2.0), (4, 2.0, 4.0), (10, 5.0, 10.0)],
)
def test_backoff_is_exponential_with_jitter_under_the_cap(
    attempt: int, low: float, high: float
) -> None:
    policy = RetryPolicy(max_attempts=10, initial_wait=0.5, max_wait=10.0)
    waits = {policy.wait_seconds(attempt, None) for _ in range(200)}
    assert all(low <= wait <= high for wait in waits)
    assert len(waits) > 1  # jittered: concurrent callers do not retry in lock-step


@pytest.mark.parametrize(("retry_after", "wait"), [(3.0, 3.0), (0.0, 0.0), (-5.0, 0.0), (99, 10)])
def test_retry_after_wins_but_is_capped(retry_after: float, wait: float) -> None:
    policy = RetryPolicy(initial_wait=0.5, max_wait=10.0)
    assert policy.wait_seconds(1, retry_after) == wait
    assert policy.wait_seconds(7, retry_after) == wait


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("1.5", 1.5), ("", None), ("soon", None), ("Wed, 32 Foo 2026", None)],
)
def test_parse_retry_after_seconds_and_garbage(header: str, expected: float | None) -> None:
    response = answer(503, **({"Retry-After": header} if header else {}))
    assert parse_retry_after(response) == expected


def test_parse_retry_after_http_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    parsed = parse_retry_after(answer(429, **{"Retry-After": later}))
    assert parsed is not None and 27.0 <= parsed <= 30.0
    past = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(answer(429, **{"Retry-After": past})) == 0.0


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_retryable_statuses_raise_for_the_policy(status: int) -> None:
    with pytest.raises(RetryableResponseError) as info:
        raise_if_retryable(answer(status, **{"Retry-After": "2"}))
    assert (info.value.status_code, info.value.retry_after) == (status, 2.0)


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 501, 505])
def test_permanent_statuses_pass_through(status: int) -> None:
    assert status not in RETRYABLE_STATUS
    raise_if_retryable(answer(status))  # no exception: the caller decides what it means


@pytest.mark.parametrize(
    ("raised", "expected", "text"),
    [
        (RetryableResponseError(429), SteamRateLimitedError, "kept answering 429"),
        (RetryableResponseError(503), UpstreamUnavailableError, "HTTP 503 to /x after retries"),
        (httpx.ReadTimeout("slow"), UpstreamUnavailableError, "did not answer to /x in time"),
        (httpx.ConnectError("refused"), UpstreamUnavailableError, "cannot reach Steam to /x"),
    ],
)
def test_upstream_errors_translate_and_keep_the_cause(
    raised: Exception, expected: type[Exception], text: str
) -> None:
    with (
        pytest.raises(expected, match=text) as info,
        upstream_errors("Steam", rate_limited=SteamRateLimitedError, about=" to /x"),
    ):
        raise raised
    assert info.value.__cause__ is raised  # the 3 a.m. traceback still shows the real error


async def attempts_until_given_up(policy: RetryPolicy, error: Exception) -> int:
    """How many attempts the policy makes of a call that always raises `error`."""
    attempts = 0

    async def give_up() -> None:
        nonlocal attempts
        async for attempt in policy.retrying(upstream="test"):
            with attempt:
                attempts += 1
                raise error

    with pytest.raises(type(error)) as info:
        await give_up()
    assert info.value is error  # reraise=True: the caller translates the real last error
    return attempts


async def test_the_policy_retries_until_the_last_attempt_and_reraises() -> None:
    policy = RetryPolicy(max_attempts=3, initial_wait=0.001, max_wait=0.002)
    assert await attempts_until_given_up(policy, RetryableResponseError(503)) == 3
    assert await attempts_until_given_up(policy, httpx.ConnectError("refused")) == 3


async def test_the_policy_does_not_retry_other_errors() -> None:
    policy = RetryPolicy(max_attempts=5, initial_wait=0.001, max_wait=0.002)
    assert await attempts_until_given_up(policy, ValueError("not ours to retry")) == 1


# -- bounds on one attempt and on the stage ---------------------------------------------------


def _steam(
    handler: Any, *, base_url: str = "http://127.0.0.1:9", attempts: int = 5, **limits: Any
) -> SteamClient:
    return SteamClient(
        api_key=SecretStr("k" * 32),
        base_url=base_url,
        retry=RetryPolicy(max_attempts=attempts, initial_wait=0.001, max_wait=0.002),
        limits=HttpLimits(**limits),
        transport=httpx.MockTransport(handler),
    )


class _Endless(httpx.AsyncByteStream):
    """A body that never ends; counts what was read of it."""

    def __init__(self) -> None:
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.sent += 65536
            yield b"[" * 65536


async def test_a_declared_body_over_the_cap_is_refused_before_reading() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, headers={"Content-Length": str(10 * 2**30)}, stream=_Endless())

    async with _steam(handler, max_response_bytes=1024) as steam:
        with pytest.raises(UpstreamUnavailableError, match=r"10737418240 bytes.*MAX_RESPONSE"):
            await steam.get_owned_games(76561197960287930)
    assert calls == 1  # never retried: the same request gets the same answer


async def test_an_endless_body_is_read_only_up_to_the_cap() -> None:
    body = _Endless()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=body)

    async with _steam(handler, max_response_bytes=200_000) as steam:
        with pytest.raises(UpstreamUnavailableError, match="HTTP_MAX_RESPONSE_BYTES"):
            await steam.get_owned_games(76561197960287930)
    assert body.sent <= 200_000 + 65536


class _Dribble(httpx.AsyncByteStream):
    """One byte every `pause` seconds, for ever: every single read is quick."""

    def __init__(self, pause: float) -> None:
        self.pause = pause

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            await asyncio.sleep(self.pause)
            yield b" "


async def test_a_dribbling_body_ends_by_the_attempt_deadline_then_is_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, stream=_Dribble(0.01))

    async with _steam(handler, attempts=2, attempt_timeout=0.2) as steam:
        with pytest.raises(UpstreamUnavailableError, match="HTTP_ATTEMPT_TIMEOUT"):
            await steam.get_owned_games(76561197960287930)
    assert calls == 2


async def test_the_stage_budget_stops_attempts_and_waits() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, stream=_Dribble(0.01))

    async with _steam(handler, attempts=20, attempt_timeout=0.2) as steam:
        with time_budget(0.5), pytest.raises(UpstreamUnavailableError):
            await steam.get_owned_games(76561197960287930)
    assert calls < 20  # the budget, not the attempts, ended it


async def test_a_spent_budget_sends_nothing() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, json={})

    async with _steam(handler) as steam:
        with time_budget(0), pytest.raises(UpstreamUnavailableError, match="time budget"):
            await steam.get_owned_games(76561197960287930)
    assert calls == 0


def test_a_nested_budget_never_extends_the_outer_one() -> None:
    assert budget_left() is None
    with time_budget(1.0):
        with time_budget(100.0):
            left = budget_left()
            assert left is not None and left <= 1.0
        with budget_share(0.5):
            left = budget_left()
            assert left is not None and left <= 0.5
    assert budget_left() is None


# -- a refused connection (issue 29, pit 8) ------------------------------------------------------


def _refusing(calls: list[str]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    return handler


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "https://steam.lan"]
)
async def test_a_refused_loopback_or_configured_url_is_configuration_after_one_retry(
    base_url: str,
) -> None:
    calls: list[str] = []
    async with _steam(_refusing(calls), base_url=base_url) as steam:
        with pytest.raises(ConfigurationError, match="STEAM_API_BASE_URL"):
            await steam.get_owned_games(76561197960287930)
    assert len(calls) == 2  # one retry, not five


async def test_a_refused_default_url_is_an_outage_retried_as_usual() -> None:
    calls: list[str] = []
    async with _steam(_refusing(calls), base_url=STEAM_API_BASE_URL, attempts=4) as steam:
        with pytest.raises(UpstreamUnavailableError, match="cannot reach Steam"):
            await steam.get_owned_games(76561197960287930)
    assert len(calls) == 4
