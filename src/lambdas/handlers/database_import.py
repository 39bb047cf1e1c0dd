"""Lambda handler for stage 3: enriched CSV → set-based upserts into the app's database."""

from __future__ import annotations

from typing import Any

from lambdas.config import Settings
from lambdas.handlers._runtime import run_stage
from lambdas.models.events import LambdaContext
from lambdas.stages import LOAD


def handler(
    event: dict[str, Any], context: LambdaContext, *, settings: Settings | None = None
) -> dict[str, Any]:
    """AWS Lambda entry point: `{user_id, s3_enriched_location}` → `{success, stats, …}`."""
    return run_stage(LOAD, event, context, settings=settings)
