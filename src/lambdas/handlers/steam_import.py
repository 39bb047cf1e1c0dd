"""Lambda handler for stage 1: Steam account → raw CSV in storage."""

from __future__ import annotations

from typing import Any

from lambdas.handlers._runtime import run_stage
from lambdas.models.events import SteamImportEvent, SteamImportResponse
from lambdas.stages import steam_stage


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point: `{user_id, steam_id64}` → `{success, s3_location, game_count, …}`."""
    return run_stage(
        event,
        context,
        stage="steam_import",
        event_model=SteamImportEvent,
        response_model=SteamImportResponse,
        work=steam_stage,
    )
