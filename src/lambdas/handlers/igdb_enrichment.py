"""Lambda handler for stage 2: raw CSV → classification and IGDB matching → enriched CSV."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lambdas.clients.s3 import storage_from_settings
from lambdas.config import Settings
from lambdas.handlers._runtime import run_stage
from lambdas.models.events import IgdbEnrichmentEvent, IgdbEnrichmentResponse
from lambdas.services.enrichment import enrich_library


async def _enrich(event: IgdbEnrichmentEvent, settings: Settings) -> IgdbEnrichmentResponse:
    result = await enrich_library(
        user_id=event.user_id,
        location=event.s3_location,
        settings=settings,
        storage=storage_from_settings(settings),
        now=datetime.now(UTC),
    )
    return IgdbEnrichmentResponse(
        success=True,
        user_id=event.user_id,
        import_id=event.import_id,
        s3_enriched_location=result.location,
        stats=result.stats,
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point: `{user_id, s3_location}` → `{success, s3_enriched_location, …}`."""
    return run_stage(
        event,
        context,
        stage="igdb_enrichment",
        event_model=IgdbEnrichmentEvent,
        response_model=IgdbEnrichmentResponse,
        work=_enrich,
    )
