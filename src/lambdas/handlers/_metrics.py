"""CloudWatch metrics of one stage invocation, as Powertools EMF lines on stdout (Lambda only)."""

from __future__ import annotations

from typing import Any

from lambdas.models.events import (
    DatabaseImportResponse,
    IgdbEnrichmentResponse,
    StageResponse,
    SteamImportResponse,
)

NAMESPACE = "SteamLibraryImport"


def stage_metrics(response: StageResponse) -> dict[str, int]:
    """The counts one stage's response carries, by metric name (all of them `Count`)."""
    counts: dict[str, int] = {"Succeeded" if response.success else "Rejected": 1}
    if isinstance(response, SteamImportResponse) and response.success:
        counts["GamesFetched"] = response.game_count
        counts["SteamRequests"] = response.steam_requests
    elif isinstance(response, IgdbEnrichmentResponse) and response.success:
        enriched = response.stats
        counts |= {
            "Processed": enriched.processed,
            "Matched": enriched.matched,
            "Unmatched": enriched.unmatched,
            "Filtered": enriched.filtered,
            "MatchedByTitle": enriched.matched_by_title,
            "Reused": enriched.reused,
            "IgdbRequests": enriched.igdb_requests,
            "SteamStoreCalls": enriched.steam_store_calls,
        }
    elif isinstance(response, DatabaseImportResponse) and response.success:
        loaded = response.stats
        counts |= {
            "Imported": loaded.imported_games_created + loaded.imported_games_updated,
            "ImportedCreated": loaded.imported_games_created,
            "LibraryItemsCreated": loaded.library_items_created,
        }
    return counts


def publish_stage_metrics(
    *, stage: str, seconds: float, response: StageResponse | None, error_code: str | None = None
) -> None:
    """One EMF document for this invocation: the stage's counts and its duration.

    `response` is None when the stage raised (a transient error): then only `Raised` and the
    duration are sent, with the error code as a dimension-free property.
    """
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = Metrics(namespace=NAMESPACE, service=stage)
    metrics.add_metric(name="Duration", unit=MetricUnit.Milliseconds, value=seconds * 1000)
    counts: dict[str, Any] = stage_metrics(response) if response is not None else {"Raised": 1}
    for name, value in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    code = error_code or (response.error_code if response is not None else None)
    if code:
        metrics.add_metadata(key="error_code", value=code)
    metrics.flush_metrics()
