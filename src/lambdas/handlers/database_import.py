"""Lambda handler for stage 3: enriched CSV → set-based upserts into the app's database."""

from __future__ import annotations

from typing import Any

from lambdas.handlers._runtime import run_stage
from lambdas.models.events import DatabaseImportEvent, DatabaseImportResponse
from lambdas.stages import database_stage


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point: `{user_id, s3_enriched_location}` → `{success, stats, …}`."""
    return run_stage(
        event,
        context,
        stage="database_import",
        event_model=DatabaseImportEvent,
        response_model=DatabaseImportResponse,
        work=database_stage,
    )
