"""The one retry policy every HTTP client uses: transport errors, 429 and 5xx, bounded, jittered."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import random
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cache
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base

from lambdas.clients.budget import StageBudgetSpentError, budget_left
from lambdas.config import (
    HTTP_ATTEMPT_TIMEOUT,
    HTTP_CONNECT_TIMEOUT,
    HTTP_MAX_RESPONSE_BYTES,
    HTTP_READ_TIMEOUT,
)
from lambdas.errors import ConfigurationError, TransientError, UpstreamUnavailableError

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


class ResponseTooLargeError(Exception):
    """An answer larger than HTTP_MAX_RESPONSE_BYTES (declared or counted): never read further,
    never retried (the same request would get the same answer)."""

    def __init__(self, limit: int, declared: int | None) -> None:
        super().__init__(f"answer over {limit} bytes")
        self.limit = limit
        self.declared = declared


class AttemptDeadlineError(Exception):
    """One attempt (connect, headers and the whole body) outlasted HTTP_ATTEMPT_TIMEOUT, however
    often each read brought a byte; retryable like a read timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no whole answer within {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """Bounds on one attempt besides the per-read timeout: the body's size and the whole
    attempt's duration (HTTP_MAX_RESPONSE_BYTES, HTTP_ATTEMPT_TIMEOUT)."""

    max_response_bytes: int = HTTP_MAX_RESPONSE_BYTES
    attempt_timeout: float = HTTP_ATTEMPT_TIMEOUT

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(
            max_response_bytes=settings.http_max_response_bytes,
            attempt_timeout=settings.http_attempt_timeout,
        )


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
            stop=stop_after_attempt(self.max_attempts) | _BudgetSpent(),
            wait=wait,
            retry=retry_if_exception(is_retryable),
            before_sleep=before_sleep,
            reraise=True,
        )


class _BudgetSpent(stop_base):
    """Stop when, waited out, the stage's budget would leave no time for another attempt."""

    def __call__(self, retry_state: RetryCallState) -> bool:
        left = budget_left()
        return left is not None and left <= retry_state.upcoming_sleep


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
    except ResponseTooLargeError as exc:
        size = f"{exc.declared} bytes" if exc.declared is not None else "more"
        raise UpstreamUnavailableError(
            f"{upstream} sent an answer{about} of {size}, over HTTP_MAX_RESPONSE_BYTES "
            f"({exc.limit}); it was not read further"
        ) from exc
    except AttemptDeadlineError as exc:
        raise UpstreamUnavailableError(
            f"{upstream} sent no whole answer{about} within HTTP_ATTEMPT_TIMEOUT "
            f"({exc.seconds:g} s) after retries"
        ) from exc
    except StageBudgetSpentError as exc:
        raise UpstreamUnavailableError(
            f"the stage's time budget (STAGE_TIME_BUDGET_SECONDS) ran out waiting for "
            f"{upstream}{about}; try again later"
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
    return isinstance(
        exc,
        RetryableResponseError
        | AttemptDeadlineError
        | httpx.TimeoutException
        | httpx.TransportError,
    )


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


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a client sends requests: the setting that names the URL and its default. A refused
    connection to a loopback host or to a URL someone configured is a configuration fault after
    one retry; to the real service's default address, it is an outage like any other."""

    variable: str
    url: str
    default: str

    @property
    def origin(self) -> str:
        return _origin(httpx.URL(self.url))

    @property
    def refusal_is_configuration(self) -> bool:
        configured = self.url.rstrip("/") != self.default.rstrip("/")
        return configured or _is_loopback(httpx.URL(self.url).host)


@cache
def shared_tls_context() -> ssl.SSLContext:
    """The process's one TLS context (httpx's defaults: certifi's roots, SSL_CERT_FILE /
    SSL_CERT_DIR when set). Building one reads and parses the CA bundle, tens of milliseconds;
    a sync opens clients for every user, so each new client reuses this one instead."""
    return httpx.create_ssl_context()


class PooledClient:
    """Base of our upstream clients: one pooled connection per run, used as `async with`.

    Every attempt goes through `_exchange`: the answer is streamed and read up to `limits`'
    byte cap, the whole attempt ends by its deadline or the stage's budget, whichever is first.
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout: httpx.Timeout | None,
        transport: httpx.AsyncBaseTransport | None,
        limits: HttpLimits | None = None,
        endpoints: tuple[Endpoint, ...] = (),
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout or DEFAULT_TIMEOUT,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "steam-library-import"},
            # A given transport brings its own TLS; otherwise every client shares the process's.
            verify=True if transport is not None else shared_tls_context(),
        )
        self._limits = limits or HttpLimits()
        self._endpoints = endpoints
        self._refused: set[str] = set()

    async def _exchange(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One attempt: the answer with its body read, at most HTTP_MAX_RESPONSE_BYTES of it,
        within HTTP_ATTEMPT_TIMEOUT or what is left of the stage's budget."""
        left = budget_left()
        if left is not None and left <= 0:
            raise StageBudgetSpentError
        seconds = (
            self._limits.attempt_timeout
            if left is None
            else min(self._limits.attempt_timeout, left)
        )
        request = self._http.build_request(method, url, **kwargs)
        try:
            async with asyncio.timeout(seconds):
                response = await self._http.send(request, stream=True)
                try:
                    await _read_capped(response, self._limits.max_response_bytes)
                finally:
                    await response.aclose()
                    # httpx binds the stream to its response and the response to the stream:
                    # a reference cycle that would keep the body until the cyclic collector
                    # runs, which the stages pause. The body is read: the stream is done.
                    response.stream = _READ
        except TimeoutError as exc:
            if seconds < self._limits.attempt_timeout:
                raise StageBudgetSpentError(seconds) from exc
            raise AttemptDeadlineError(seconds) from exc
        except httpx.ConnectError as exc:
            self._check_refused(request.url, exc)
            raise
        return response

    def _check_refused(self, url: httpx.URL, exc: httpx.ConnectError) -> None:
        """The second refused connection to a loopback or configured endpoint is a
        ConfigurationError naming its setting (the first one is retried once)."""
        endpoint = _endpoint_of(url, self._endpoints)
        if endpoint is None or not endpoint.refusal_is_configuration or not _refused(exc):
            return
        if endpoint.variable not in self._refused:
            self._refused.add(endpoint.variable)
            return
        raise ConfigurationError(
            f"nothing accepts connections at {endpoint.variable} ({endpoint.origin}): "
            "refused twice; start that server or fix the setting"
        ) from exc

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


#: The stream of an answer whose body was read (`_exchange`).
_READ = httpx.ByteStream(b"")


async def _read_capped(response: httpx.Response, limit: int) -> None:
    """Read a streamed answer's body into it, refusing it as soon as it is known to exceed
    `limit` bytes: by its Content-Length before reading, else while counting what arrives."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ResponseTooLargeError(limit, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():  # decoded: a compressed bomb counts unpacked
        size += len(chunk)
        if size > limit:
            raise ResponseTooLargeError(limit, None)
        chunks.append(chunk)
    response._content = b"".join(chunks)  # what `aread()` would have set


def _endpoint_of(url: httpx.URL, endpoints: tuple[Endpoint, ...]) -> Endpoint | None:
    """The endpoint a request went to: same origin, the longest URL that prefixes it."""
    same = [endpoint for endpoint in endpoints if endpoint.origin == _origin(url)]
    text = str(url)
    same.sort(key=lambda endpoint: (text.startswith(endpoint.url.rstrip("/")), len(endpoint.url)))
    return same[-1] if same else None


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refused(exc: BaseException) -> bool:
    """Whether a connect error is ECONNREFUSED (nothing listens there), however wrapped."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return True
        if isinstance(seen, OSError) and seen.errno == errno.ECONNREFUSED:
            return True
        seen = seen.__cause__ or seen.__context__
    text = str(exc).lower()
    return "connection refused" in text or "errno 111" in text
