"""The one retry policy every HTTP client uses: transport errors, 429 and 5xx, bounded, jittered."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from lambdas.config import HTTP_CONNECT_TIMEOUT, HTTP_READ_TIMEOUT
from lambdas.errors import TransientError, UpstreamUnavailableError

if TYPE_CHECKING:
    from lambdas.config import Settings

log = structlog.get_logger()

# The one rule for which answers earn another attempt, for every client. 501 Not Implemented and
# 505 HTTP Version Not Supported are 5xx but permanent: asking again gets the same answer.
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

    @classmethod
    def from_settings(cls, settings: Settings, *, max_attempts: int) -> RetryPolicy:
        return cls(
            max_attempts=max_attempts,
            initial_wait=settings.retry_initial_wait_seconds,
            max_wait=settings.retry_max_wait_seconds,
        )

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


@contextmanager
def upstream_errors(
    upstream: str, *, rate_limited: type[TransientError], about: str = ""
) -> Iterator[None]:
    """Translate what the retry policy gave up on into our transient errors, once, here."""
    try:
        yield
    except RetryableResponseError as exc:
        if exc.status_code == 429:
            raise rate_limited(
                f"{upstream} kept answering 429 Too Many Requests{about}; try again later"
            ) from exc
        raise UpstreamUnavailableError(
            f"{upstream} answered HTTP {exc.status_code}{about} after retries; "
            "it may be down for maintenance"
        ) from exc
    except httpx.TimeoutException as exc:
        raise UpstreamUnavailableError(
            f"{upstream} did not answer{about} in time ({type(exc).__name__})"
        ) from exc
    except httpx.TransportError as exc:
        raise UpstreamUnavailableError(
            f"cannot reach {upstream}{about} ({type(exc).__name__})"
        ) from exc


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableResponseError | httpx.TimeoutException | httpx.TransportError)


def raise_if_retryable(response: httpx.Response) -> None:
    """Turn a retryable status (RETRYABLE_STATUS) into RetryableResponseError for the policy."""
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


DEFAULT_TIMEOUT = timeout_from(connect=HTTP_CONNECT_TIMEOUT, read=HTTP_READ_TIMEOUT)


def timeout_from_settings(settings: Settings) -> httpx.Timeout:
    return timeout_from(connect=settings.http_connect_timeout, read=settings.http_read_timeout)


class PooledClient:
    """Base of our upstream clients: one pooled connection per run, used as `async with`."""

    def __init__(
        self,
        *,
        base_url: str,
        timeout: httpx.Timeout | None,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout or DEFAULT_TIMEOUT,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "steam-library-import"},
        )

    async def _opened(self) -> None:
        """Called once the connection pool is open (subclasses set up per-run state here)."""

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        await self._opened()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(exc_type, exc, tb)
