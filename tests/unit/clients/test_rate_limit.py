"""The IGDB limiter: never more than N starts in any window, never more than M in flight."""

from __future__ import annotations

import asyncio

from lambdas.clients.rate_limit import RateLimiter, limiter_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_sliding_window_holds_for_any_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_second=4, max_in_flight=8, margin=0.0, clock=clock, sleep=clock.sleep)
    starts: list[float] = []

    async def request() -> None:
        async with limiter.slot():
            starts.append(clock.now)

    await asyncio.gather(*(request() for _ in range(13)))
    assert len(starts) == 13
    for index, start in enumerate(starts):
        in_window = [other for other in starts if start <= other < start + 1.0]
        assert len(in_window) <= 4, (index, starts)
    assert starts[-1] >= 3.0  # 13 requests need at least three full windows


async def test_in_flight_bound() -> None:
    limiter = RateLimiter(per_second=1000, max_in_flight=3)
    active = 0
    peak = 0

    async def request() -> None:
        nonlocal active, peak
        async with limiter.slot():
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1

    await asyncio.gather(*(request() for _ in range(12)))
    assert peak == 3


async def test_pause_holds_everyone_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_second=100, margin=0.0, clock=clock, sleep=clock.sleep)
    limiter.pause(2.5)
    async with limiter.slot():
        assert clock.now >= 2.5


def test_one_limiter_per_client_id_in_a_process() -> None:
    first = limiter_for("client-a", per_second=4, max_in_flight=8)
    assert limiter_for("client-a", per_second=4, max_in_flight=8) is first
    assert limiter_for("client-b", per_second=4, max_in_flight=8) is not first


def test_limiter_survives_several_event_loops() -> None:
    limiter = RateLimiter(per_second=100, max_in_flight=2)

    async def use() -> None:
        async with limiter.slot():
            await asyncio.sleep(0)

    asyncio.run(use())
    asyncio.run(use())  # a warm Lambda container runs one loop per invocation
