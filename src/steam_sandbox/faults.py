"""Seeded fault injection: decides per request the latency, hang, 5xx or spurious 429."""

from __future__ import annotations

import random
from dataclasses import dataclass

from steam_sandbox.knobs import SERVICES, ServiceKnobs


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """What to do to one request before (or instead of) answering it."""

    delay_seconds: float
    hang: bool
    error_status: int | None
    burst_429: bool


class FaultInjector:
    """One RNG per service, so a run with the same seed and request order repeats exactly."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._rngs: dict[str, random.Random] = {}
        self.reset()

    def reset(self) -> None:
        """Restart every service's random sequence from the seed."""
        self._rngs = {
            s: random.Random(f"{self._seed}:faults:{s}")  # noqa: S311 - reproducible faults
            for s in SERVICES
        }

    def plan(self, service: str, knobs: ServiceKnobs) -> FaultPlan:
        """Draw the fate of one request (three draws every time, keeping sequences aligned)."""
        rng = self._rngs[service]
        hang_draw, error_draw, burst_draw = rng.random(), rng.random(), rng.random()
        hang = hang_draw < knobs.hang_probability
        error_status = None
        if error_draw < knobs.error_rate and knobs.error_statuses:
            error_status = knobs.error_statuses[
                int(error_draw * 1_000_003) % len(knobs.error_statuses)
            ]
        return FaultPlan(
            delay_seconds=knobs.latency_ms / 1000.0,
            hang=hang,
            error_status=error_status,
            burst_429=burst_draw < knobs.burst_429_rate,
        )
