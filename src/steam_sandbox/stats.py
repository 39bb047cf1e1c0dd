"""Thread-safe request counters of the sandbox and their snapshot model."""

from __future__ import annotations

import threading
from collections import Counter

from pydantic import BaseModel


class SandboxStats(BaseModel):
    """Counters since the last reset: requests[service][endpoint][status] and friends."""

    requests: dict[str, dict[str, dict[str, int]]] = {}
    rate_limited: dict[str, int] = {}
    faults: dict[str, dict[str, int]] = {}
    tokens_issued: int = 0
    igdb_in_flight_peak: int = 0
    steam_daily_used: int = 0

    def total(
        self, service: str | None = None, endpoint: str | None = None, status: int | None = None
    ) -> int:
        """Requests matching the given service, endpoint and status (None = any)."""
        count = 0
        for svc, endpoints in self.requests.items():
            if service is not None and svc != service:
                continue
            for ep, statuses in endpoints.items():
                if endpoint is not None and ep != endpoint:
                    continue
                for st, n in statuses.items():
                    if status is None or st == str(status):
                        count += n
        return count


class StatsRecorder:
    """Collects counters from the server thread; ``snapshot`` is safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[tuple[str, str, int]] = Counter()
        self._rate_limited: Counter[str] = Counter()
        self._faults: Counter[tuple[str, str]] = Counter()
        self._tokens = 0

    def request(self, service: str, endpoint: str, status: int) -> None:
        """Count one answered request."""
        with self._lock:
            self._requests[(service, endpoint, status)] += 1
            if status == 429:
                self._rate_limited[service] += 1

    def fault(self, service: str, kind: str) -> None:
        """Count one injected fault (latency, hang, error, burst_429)."""
        with self._lock:
            self._faults[(service, kind)] += 1

    def token_issued(self) -> None:
        """Count one Twitch token."""
        with self._lock:
            self._tokens += 1

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._requests.clear()
            self._rate_limited.clear()
            self._faults.clear()
            self._tokens = 0

    def snapshot(self, *, in_flight_peak: int = 0, steam_daily_used: int = 0) -> SandboxStats:
        """A copy of the counters."""
        with self._lock:
            requests: dict[str, dict[str, dict[str, int]]] = {}
            for (service, endpoint, status), n in sorted(self._requests.items()):
                requests.setdefault(service, {}).setdefault(endpoint, {})[str(status)] = n
            faults: dict[str, dict[str, int]] = {}
            for (service, kind), n in sorted(self._faults.items()):
                faults.setdefault(service, {})[kind] = n
            return SandboxStats(
                requests=requests,
                rate_limited=dict(self._rate_limited),
                faults=faults,
                tokens_issued=self._tokens,
                igdb_in_flight_peak=in_flight_peak,
                steam_daily_used=steam_daily_used,
            )
