"""IGDB's limits, held per process: at most N request starts in any one-second window and at
most M requests in flight, with a shared pause after a 429.

A classic token bucket (capacity 4, 4 tokens/s) would allow 5 starts inside one second (4 at once,
one more 0.25 s later), which IGDB answers with 429; a sliding window of the last N start times
cannot. Times are monotonic; a small margin absorbs network jitter between us and the server.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog

log = structlog.get_logger()


class RateLimiter:
    """Sliding-window rate limit plus an in-flight bound; safe across event loops."""

    def __init__(
        self,
        *,
        per_second: int = 4,
        max_in_flight: int = 8,
        window: float = 1.0,
        margin: float = 0.08,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.per_second = per_second
        self.max_in_flight = max_in_flight
        self._span = window + margin
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        # asyncio primitives belong to one loop; Lambda runs one loop per invocation.
        self._primitives: dict[int, tuple[asyncio.Semaphore, asyncio.Lock]] = {}

    def _for_loop(self) -> tuple[asyncio.Semaphore, asyncio.Lock]:
        key = id(asyncio.get_running_loop())
        if key not in self._primitives:
            self._primitives.clear()
            self._primitives[key] = (asyncio.Semaphore(self.max_in_flight), asyncio.Lock())
        return self._primitives[key]

    def pause(self, seconds: float) -> None:
        """Hold every request back for `seconds` (after a 429 from the server)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        log.info("igdb.rate_limit_pause", seconds=round(seconds, 3))

    async def _wait_for_slot(self, lock: asyncio.Lock) -> None:
        async with lock:
            while True:
                now = self._clock()
                while self._starts and now - self._starts[0] >= self._span:
                    self._starts.popleft()
                wait = self._paused_until - now
                if len(self._starts) >= self.per_second:
                    wait = max(wait, self._starts[0] + self._span - now)
                if wait <= 0:
                    self._starts.append(now)
                    return
                await self._sleep(wait)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one in-flight slot for the duration of a request."""
        semaphore, lock = self._for_loop()
        async with semaphore:
            await self._wait_for_slot(lock)
            yield


_process_limiters: dict[str, RateLimiter] = {}


def limiter_for(key: str, *, per_second: int, max_in_flight: int) -> RateLimiter:
    """The one limiter of this process for an IGDB client id."""
    limiter = _process_limiters.get(key)
    if limiter is None or (limiter.per_second, limiter.max_in_flight) != (
        per_second,
        max_in_flight,
    ):
        limiter = RateLimiter(per_second=per_second, max_in_flight=max_in_flight)
        _process_limiters[key] = limiter
    return limiter
