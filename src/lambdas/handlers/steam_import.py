"""Lambda handler for stage 1: Steam account → raw CSV in storage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lambdas.clients.s3 import storage_from_settings
from lambdas.config import Settings
from lambdas.handlers._runtime import run_stage
from lambdas.models.events import SteamImportEvent, SteamImportResponse
from lambdas.services.steam_import import import_steam_library


async def _import(event: SteamImportEvent, settings: Settings) -> SteamImportResponse:
    assert event.import_id is not None
    result = await import_steam_library(
        user_id=event.user_id,
        account=event.steam_id64,
        settings=settings,
        storage=storage_from_settings(settings),
        now=datetime.now(UTC),
        import_id=event.import_id,
    )
    return SteamImportResponse(
        success=True,
        user_id=event.user_id,
        import_id=event.import_id,
        s3_location=result.location,
        game_count=result.game_count,
        steam_id64=str(result.steam_id64),
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """AWS Lambda entry point: `{user_id, steam_id64}` → `{success, s3_location, game_count, …}`."""
    return run_stage(
        event,
        context,
        stage="steam_import",
        event_model=SteamImportEvent,
        response_model=SteamImportResponse,
        work=_import,
    )
