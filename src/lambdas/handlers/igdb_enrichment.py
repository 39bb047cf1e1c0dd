"""Lambda handler for stage 2: raw CSV → classification and IGDB matching → enriched CSV."""

from __future__ import annotations

from typing import Any

from lambdas.config import Settings
from lambdas.handlers._runtime import run_stage
from lambdas.models.events import LambdaContext
from lambdas.stages import ENRICH


def handler(
    event: dict[str, Any], context: LambdaContext, *, settings: Settings | None = None
) -> dict[str, Any]:
    """AWS Lambda entry point: `{user_id, s3_location}` → `{success, s3_enriched_location, …}`."""
    return run_stage(ENRICH, event, context, settings=settings)
