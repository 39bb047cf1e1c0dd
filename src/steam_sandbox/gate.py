"""Applies knobs to one request: rate limits, in-flight cap and seeded faults."""

from __future__ import annotations

import asyncio

from starlette.responses import Response

from steam_sandbox.responses import server_error, too_many_requests
from steam_sandbox.state import SandboxState


async def inject_faults(state: SandboxState, service: str) -> Response | None:
    """Sleep for latency (and a hang if drawn); return an injected error response, if any."""
    knobs = getattr(state.knobs, service)
    with state.lock:
        plan = state.faults.plan(service, knobs)
    if plan.delay_seconds > 0:
        state.stats.fault(service, "latency")
        await asyncio.sleep(plan.delay_seconds)
    if plan.hang:
        state.stats.fault(service, "hang")
        await asyncio.sleep(knobs.hang_seconds)
    if plan.error_status is not None:
        state.stats.fault(service, "error")
        return server_error(service, plan.error_status)
    if plan.burst_429:
        state.stats.fault(service, "burst_429")
        return too_many_requests(service, knobs.retry_after_seconds)
    return None


def steam_limits(state: SandboxState, key: str) -> Response | None:
    """Per-key daily counter and optional short window; 429 HTML (or 403) when exceeded."""
    knobs = state.knobs.steam
    if not knobs.rate_limit_enabled:
        return None
    now = state.clock()
    with state.lock:
        admitted = state.steam_daily.admit(key, now, knobs.daily_limit)
        if admitted and knobs.window_limit is not None:
            admitted = state.steam_window.admit(now, knobs.window_limit, knobs.window_seconds)
    if admitted:
        return None
    return too_many_requests("steam", knobs.retry_after_seconds, knobs.rate_limit_status)


def igdb_enter(state: SandboxState) -> Response | None:
    """Count an open IGDB request; 429 past the in-flight cap or the per-second window.

    The caller must call ``igdb_leave`` afterwards whatever this returns.
    """
    knobs = state.knobs.igdb
    with state.lock:
        open_now = state.igdb_in_flight.enter()
        if not knobs.rate_limit_enabled:
            return None
        admitted = open_now <= knobs.max_in_flight and state.igdb_window.admit(
            state.clock(), knobs.requests_per_second, 1.0
        )
    if admitted:
        return None
    return too_many_requests("igdb", knobs.retry_after_seconds)


def igdb_leave(state: SandboxState) -> None:
    """One IGDB request finished."""
    with state.lock:
        state.igdb_in_flight.leave()
