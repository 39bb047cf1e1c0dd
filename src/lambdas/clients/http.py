"""The one retry policy every HTTP client uses: transport errors, 429 and 5xx, bounded, jittered."""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

log = structlog.get_logger()

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class RetryableResponseError(Exception):
    """An HTTP answer worth another attempt (429 or 5xx); carries Retry-After when sent."""

    def __init__(self, status_code: int, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry; the numbers come from settings."""

    max_attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 20.0

    def wait_seconds(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After when the server sent one, else full-jitter exponential backoff."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_wait)
        ceiling = min(self.max_wait, self.initial_wait * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography

    def retrying(self, *, upstream: str) -> AsyncRetrying:
        """A tenacity controller; the last error is re-raised for the caller to translate."""

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            retry_after = exc.retry_after if isinstance(exc, RetryableResponseError) else None
            return self.wait_seconds(state.attempt_number, retry_after)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.info(
                "http.retry",
                upstream=upstream,
                attempt=state.attempt_number,
                reason=_describe(exc),
                wait_s=round(state.upcoming_sleep, 3),
            )

        return AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait,
            retry=retry_if_exception(is_retryable),
            before_sleep=before_sleep,
            reraise=True,
        )


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableResponseError | httpx.TimeoutException | httpx.TransportError)


def raise_if_retryable(response: httpx.Response) -> None:
    """Turn a 429 or 5xx into RetryableResponseError so the policy sees it."""
    if response.status_code in RETRYABLE_STATUS:
        raise RetryableResponseError(response.status_code, parse_retry_after(response))


def parse_retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from datetime import UTC, datetime

    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def _describe(exc: BaseException | None) -> str:
    """A short reason without URLs (they may carry keys)."""
    if exc is None:
        return "unknown"
    if isinstance(exc, RetryableResponseError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__


def timeout_from(*, connect: float, read: float) -> httpx.Timeout:
    return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)
