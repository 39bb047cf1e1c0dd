"""Rate limiting primitives: a sliding request window, an in-flight gauge and a daily counter."""

from __future__ import annotations

from collections import deque


class SlidingWindow:
    """Admits at most ``limit`` requests in any ``window`` seconds (rejected ones don't count)."""

    def __init__(self) -> None:
        self._stamps: deque[float] = deque()

    def admit(self, now: float, limit: int, window: float) -> bool:
        """Record and admit a request at ``now``, or refuse it."""
        stamps = self._stamps
        while stamps and stamps[0] <= now - window:
            stamps.popleft()
        if len(stamps) >= limit:
            return False
        stamps.append(now)
        return True

    def clear(self) -> None:
        """Forget every admitted request."""
        self._stamps.clear()


class InFlight:
    """Counts open requests and remembers the peak."""

    def __init__(self) -> None:
        self.current = 0
        self.peak = 0

    def enter(self) -> int:
        """One more open request; returns the new count."""
        self.current += 1
        self.peak = max(self.peak, self.current)
        return self.current

    def leave(self) -> None:
        """One request finished."""
        self.current -= 1


class DailyCounter:
    """Counts requests per key per 24-hour period of the sandbox clock."""

    def __init__(self) -> None:
        self._day = -1
        self._counts: dict[str, int] = {}

    def admit(self, key: str, now: float, limit: int) -> bool:
        """Count a request for ``key``; False once ``limit`` is reached for the current day."""
        day = int(now // 86_400)
        if day != self._day:
            self._day, self._counts = day, {}
        used = self._counts.get(key, 0)
        if used >= limit:
            return False
        self._counts[key] = used + 1
        return True

    def used(self, key: str) -> int:
        """Requests counted for ``key`` today."""
        return self._counts.get(key, 0)

    def clear(self) -> None:
        """Reset all counts."""
        self._counts.clear()
