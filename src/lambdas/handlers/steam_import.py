"""Lambda handler for stage 1: Steam account → raw CSV in storage."""

from __future__ import annotations

from typing import Any

from lambdas.config import Settings
from lambdas.handlers._runtime import run_stage
from lambdas.models.events import LambdaContext
from lambdas.stages import STEAM


def handler(
    event: dict[str, Any], context: LambdaContext, *, settings: Settings | None = None
) -> dict[str, Any]:
    """AWS Lambda entry point: `{user_id, steam_id64}` → `{success, s3_location, game_count, …}`."""
    return run_stage(STEAM, event, context, settings=settings)
