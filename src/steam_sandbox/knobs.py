"""Run-time knobs of the sandbox per service (faults, limits, quirks) and their parsing."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

SERVICES: Final = ("steam", "twitch", "igdb")


class ServiceKnobs(BaseModel):
    """Fault injection shared by every service; all draws come from a seeded RNG."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: float = Field(0.0, ge=0)
    error_rate: float = Field(0.0, ge=0, le=1)
    error_statuses: tuple[int, ...] = (500, 502, 503)
    hang_probability: float = Field(0.0, ge=0, le=1)
    hang_seconds: float = Field(30.0, ge=0)
    burst_429_rate: float = Field(0.0, ge=0, le=1)
    retry_after_seconds: int | None = Field(None, ge=0)


class SteamKnobs(ServiceKnobs):
    """Steam Web API quirks and limits."""

    rate_limit_enabled: bool = True
    daily_limit: int = Field(100_000, ge=0)
    window_limit: int | None = Field(None, ge=0)
    window_seconds: float = Field(300.0, gt=0)
    rate_limit_status: Literal[429, 403] = 429
    missing_key_status: Literal[400, 401, 403] = 400
    malformed_steamid_status: Literal[400, 200] = 400
    empty_library_body: Literal["game_count_zero", "empty_response", "empty_games_list"] = (
        "game_count_zero"
    )
    store_max_ids: int = Field(250, ge=1, description="GetItems ids per call; more is a 400")
    wishlist_fault: Literal["none", "error", "rate_limited", "malformed"] = Field(
        "none", description="GetWishlist alone: always 503, always 429, or a 200 of broken JSON"
    )


class TwitchKnobs(ServiceKnobs):
    """Twitch OAuth token lifetime."""

    expires_in: int = Field(5_011_271, ge=0)


class IgdbKnobs(ServiceKnobs):
    """IGDB limits (4 req/s, 8 in flight per Client-ID) and deprecated-field behaviour."""

    rate_limit_enabled: bool = True
    requests_per_second: int = Field(4, ge=1)
    max_in_flight: int = Field(8, ge=1)
    category_mode: Literal["omitted", "populated", "error"] = "omitted"


class Knobs(BaseModel):
    """All knobs; ``merged`` returns a validated copy with partial per-service updates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steam: SteamKnobs = SteamKnobs()
    twitch: TwitchKnobs = TwitchKnobs()
    igdb: IgdbKnobs = IgdbKnobs()

    def merged(self, updates: Mapping[str, Mapping[str, Any]]) -> Knobs:
        """A copy with ``updates`` (service → field → value) applied; ``all`` hits each service."""
        data = self.model_dump()
        for service, fields in updates.items():
            targets = SERVICES if service == "all" else (service,)
            for target in targets:
                if target not in data:
                    raise ValueError(f"unknown service {service!r}; expected one of {SERVICES}")
                data[target].update(fields)
        return Knobs.model_validate(data)


def parse_assignments(assignments: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Turn ``service.knob=value`` strings into updates (values are read as JSON when possible)."""
    updates: dict[str, dict[str, Any]] = {}
    for item in assignments:
        target, sep, raw = item.partition("=")
        service, dot, name = target.strip().partition(".")
        if not sep or not dot or not name:
            raise ValueError(f"knob {item!r} is not of the form service.name=value")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if isinstance(value, list):
            value = tuple(value)
        updates.setdefault(service, {})[name] = value
    return updates
