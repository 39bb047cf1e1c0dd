"""Lambda handler for stage 2: raw CSV → classification and IGDB matching → enriched CSV."""

from __future__ import annotations

from typing import Any

from lambdas.handlers._runtime import run_stage
from lambdas.models.events import IgdbEnrichmentEvent, IgdbEnrichmentResponse
from lambdas.stages import enrichment_stage


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point: `{user_id, s3_location}` → `{success, s3_enriched_location, …}`."""
    return run_stage(
        event,
        context,
        stage="igdb_enrichment",
        event_model=IgdbEnrichmentEvent,
        response_model=IgdbEnrichmentResponse,
        work=enrichment_stage,
    )
