"""The shared retry policy: wait maths, Retry-After parsing, and translating what it gave up on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from lambdas.clients.http import (
    RETRYABLE_STATUS,
    RetryableResponseError,
    RetryPolicy,
    parse_retry_after,
    raise_if_retryable,
    upstream_errors,
)
from lambdas.errors import SteamRateLimitedError, UpstreamUnavailableError


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
