"""Lambda handler of the sync batch's middle step: one look-up of all its users' apps.

Between the batch's stage 1 (every user) and its imports (every user), this fills the shared app
cache for the union of the users' apps, each asked once, as `steam-import sync` does. A failure
here costs nothing but requests: each user's stage 2 then asks for its own apps.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from pydantic import ValidationError

from lambdas.clients.budget import time_budget
from lambdas.config import Settings
from lambdas.errors import InvalidEventError, PermanentError
from lambdas.handlers._runtime import stage_context, start_invocation, within_lambda_time
from lambdas.models.events import (
    EnrichmentStats,
    LambdaContext,
    SharedPrefetchEvent,
    SharedPrefetchResponse,
    SteamImportResponse,
)
from lambdas.stages import StageContext, prefetch_shared_cache, stored_steam_response

log = structlog.get_logger()


def handler(
    event: dict[str, Any], context: LambdaContext, *, settings: Settings | None = None
) -> dict[str, Any]:
    """`{users: [{user_id, import_id}, …]}` → `{success, users, fetched, stats}`.

    Permanent errors answer `success: false`; transient ones raise, for the state machine's Retry.
    """
    start_invocation(context, stage="shared_prefetch")
    try:
        request = SharedPrefetchEvent.model_validate(event)
    except ValidationError as exc:
        failure = InvalidEventError(f"the prefetch event is invalid ({exc.error_count()} problems)")
        return _failed(failure, users=0)
    work_context = within_lambda_time(stage_context(settings), context)
    try:
        found = [
            stored
            for user in request.users
            if (
                stored := stored_steam_response(
                    work_context.storage, user_id=user.user_id, import_id=user.import_id
                )
            )
            is not None
        ]
        stats = asyncio.run(_prefetch(found, work_context))
    except PermanentError as exc:
        return _failed(exc, users=len(request.users))
    log.info(
        "shared_prefetch.finished",
        users=len(request.users),
        fetched=len(found),
        igdb_requests=stats.igdb_requests,
        steam_store_calls=stats.steam_store_calls,
    )
    response = SharedPrefetchResponse(
        success=True, users=len(request.users), fetched=len(found), stats=stats
    )
    dumped: dict[str, Any] = response.model_dump(mode="json")
    return dumped


async def _prefetch(found: list[SteamImportResponse], context: StageContext) -> EnrichmentStats:
    """The look-up, its upstream attempts and waits ending by the stage's time budget."""
    with time_budget(context.budget_seconds):
        return await prefetch_shared_cache(found, context)


def _failed(error: PermanentError, *, users: int) -> dict[str, Any]:
    log.warning("shared_prefetch.failed", error_code=error.code, error=error.message)
    response = SharedPrefetchResponse(
        success=False, users=users, error=error.message, error_code=error.code
    )
    dumped: dict[str, Any] = response.model_dump(mode="json")
    return dumped
