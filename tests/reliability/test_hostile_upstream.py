"""Hostile upstream servers, as the independent probe built them: 10 GiB `Content-Length`, an
endless chunked body, one byte a second, a server that accepts and never answers. Each is a real
HTTP server on 127.0.0.1 standing in for Steam, IGDB, Twitch or the store (GetItems).

Every case ends typed and retryable (UPSTREAM_UNAVAILABLE), by the mechanism the settings name:
the body cap (HTTP_MAX_RESPONSE_BYTES), the per-attempt deadline (HTTP_ATTEMPT_TIMEOUT) or the
stage's budget (STAGE_TIME_BUDGET_SECONDS). The per-read timeout is 30 s here, so it cannot be
what ended a case; the thread join is a hang guard, never a timing assertion. When the store
alone is down, stage 2 degrades instead of failing, and a later run corrects what it decided.
"""

from __future__ import annotations

import socket
import threading
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from tests.reliability.stalls import FAULTS, STORE_DOWN, HttpFault
from tests.reliability.support import Figures, Harness, outcome

from lambdas.enrichment.enrich import STORE_UNAVAILABLE
from lambdas.models.csv_codec import decode_rows
from lambdas.models.rows import EnrichedGameRow
from lambdas.pipeline import PipelineResult, Stage

#: Small bounds, so each case ends in seconds; the read timeout is deliberately long.
BOUNDS: dict[str, Any] = {
    "http_read_timeout": 30.0,
    "http_attempt_timeout": 2.0,
    "stage_time_budget_seconds": 6.0,
    "http_max_response_bytes": 8 * 1024 * 1024,
}
SIZE_FAULTS = {"10 GiB Content-Length", "endless chunked body"}
#: A stall ends only by the attempt deadline or the stage's budget, which the run waits out
#: whole: shorter ones for those cases (the size faults keep BOUNDS, so that reading up to the
#: cap on a loaded machine stays well inside the deadline and the cap is what ends them).
STALL_BOUNDS: dict[str, Any] = {
    **BOUNDS,
    "http_attempt_timeout": 1.0,
    "stage_time_budget_seconds": 3.0,
}
#: What each upstream's URL setting is set to, given the fault server's address.
UPSTREAMS: dict[str, Callable[[str], dict[str, str]]] = {
    "steam": lambda url: {"steam_api_base_url": url},
    "twitch": lambda url: {"twitch_token_url": f"{url}/oauth2/token"},
    "igdb": lambda url: {"igdb_api_base_url": f"{url}/v4"},
}
HANG_GUARD = 90.0


def _guarded(run: Callable[[], PipelineResult]) -> tuple[PipelineResult, int]:
    """The run's result and its peak Python allocation (bytes), in a thread with a hang guard."""
    finished: list[tuple[PipelineResult, int]] = []

    def target() -> None:
        tracemalloc.start()
        try:
            result = run()
            finished.append((result, tracemalloc.get_traced_memory()[1]))
        finally:
            tracemalloc.stop()

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout=HANG_GUARD)
    assert finished, "the run is still going: no bound ended it"
    return finished[0]


def _mechanism(fault: str) -> tuple[str, ...]:
    if fault in SIZE_FAULTS:
        return ("HTTP_MAX_RESPONSE_BYTES",)
    return ("HTTP_ATTEMPT_TIMEOUT", "STAGE_TIME_BUDGET_SECONDS")


@pytest.mark.parametrize("upstream", UPSTREAMS)
@pytest.mark.parametrize("fault", FAULTS)
def test_hostile_upstream_ends_typed_by_its_bound(
    fault: str, upstream: str, harness: Harness, reliability: Figures
) -> None:
    with (
        reliability.fault(f"upstream {upstream}: {fault}"),
        HttpFault(FAULTS[fault]) as server,
    ):
        bounds = BOUNDS if fault in SIZE_FAULTS else STALL_BOUNDS
        context = harness.context(**bounds, **UPSTREAMS[upstream](server.url))
        before = harness.snapshot()
        result, peak = _guarded(lambda: harness.run(kind="small", context=context))
        assert outcome(result) == "UPSTREAM_UNAVAILABLE", result.as_dict()
        assert result.failed is not None and result.failed.transient
        stage = Stage.STEAM if upstream == "steam" else Stage.ENRICH
        assert result.failed.stage is stage
        error = str(result.failed.response.error)
        assert any(name in error for name in _mechanism(fault)), error
        if fault in SIZE_FAULTS:
            assert server.connections == 1  # the same request would get the same answer
        # Never the whole body: a few times the cap at most, beside the 64 MiB buffer the stage's
        # CSV reader reserves (MAX_CSV_BYTES); the probe saw 21 GB for this fault.
        assert peak < 200 * 1024 * 1024, peak
        assert harness.snapshot() == before


@pytest.mark.parametrize("fault", STORE_DOWN)
def test_store_down_degrades_stage_2_and_a_later_run_corrects_it(
    fault: str, harness: Harness, reliability: Figures
) -> None:
    """GetItems failing (429, truncated JSON, a stall, a flood) stopped stage 2 with
    STEAM_RATE_LIMITED or UPSTREAM_UNAVAILABLE. Now the apps it could not type are decided by
    IGDB and their names, their reason says so, the result counts them, and the next run with
    the store back asks again and decides them as a clean run does."""
    clean = harness.run(kind="small", context=harness.context(steam_type_ttl_days=0))
    assert clean.success, clean.as_dict()
    raw_event = clean.response(Stage.STEAM).model_dump(mode="json")
    expected = _decisions(harness, clean)
    with (
        reliability.fault(f"store (GetItems): {fault}"),
        HttpFault(STORE_DOWN[fault]) as server,
    ):
        context = harness.context(**BOUNDS, steam_api_base_url=server.url, steam_type_ttl_days=0)
        degraded, _ = _guarded(
            lambda: harness.run(from_stage=Stage.ENRICH, event=raw_event, context=context)
        )
        assert outcome(degraded) == "success", degraded.as_dict()
        stats = degraded.response(Stage.ENRICH).stats
        # Every app decided this run (the games the committed import settled pass through: a
        # re-import decides only what changed or is due, here the filtered apps, TTL 0).
        # The store was asked about those apps and about the wishlist's; all went without it.
        decided = stats.processed - stats.reused
        assert stats.store_unavailable == stats.store_type_cache_misses >= decided > 0, stats
        rows = _rows(harness, degraded)
        assert sum(STORE_UNAVAILABLE in row.reason for row in rows) == decided
    corrected = harness.run(
        from_stage=Stage.ENRICH, event=raw_event, context=harness.context(steam_type_ttl_days=0)
    )
    assert corrected.success, corrected.as_dict()
    assert corrected.response(Stage.ENRICH).stats.store_unavailable == 0
    assert _decisions(harness, corrected) == expected


def _rows(harness: Harness, result: PipelineResult) -> list[EnrichedGameRow]:
    location = result.response(Stage.ENRICH).s3_enriched_location
    data = harness.storage.get(location, user_id=result.user_id)
    return decode_rows(data, EnrichedGameRow, what="enriched CSV")


def _decisions(harness: Harness, result: PipelineResult) -> dict[int, tuple[str, str, str]]:
    return {
        row.appid: (row.kind.value, row.match_status.value, row.reason)
        for row in _rows(harness, result)
    }


def test_refused_loopback_upstream_is_a_configuration_error(
    harness: Harness, reliability: Figures
) -> None:
    """Nothing listening at a configured IGDB address took 25 s and five retries to become
    UPSTREAM_UNAVAILABLE; refused twice, it is CONFIGURATION_ERROR naming the setting."""
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: connections are refused
    context = harness.context(
        twitch_token_url=f"http://127.0.0.1:{port}/oauth2/token",
        retry_initial_wait_seconds=0.01,
    )
    with reliability.fault("upstream twitch: connection refused at a configured URL"):
        result, _ = _guarded(lambda: harness.run(kind="small", context=context))
        assert outcome(result) == "CONFIGURATION_ERROR", result.as_dict()
        assert result.failed is not None and not result.failed.transient
        assert "TWITCH_TOKEN_URL" in str(result.failed.response.error)
