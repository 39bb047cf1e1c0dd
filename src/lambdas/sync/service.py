"""Periodic sync: one import per user with a Steam account connected; one failure stops none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from sqlalchemy.engine import Engine

from lambdas.config import Settings
from lambdas.database.users import connected_users
from lambdas.errors import PipelineError
from lambdas.models.events import EnrichmentStats, SteamImportEvent
from lambdas.pipeline import PipelineResult, Stage, announce_finished, run_pipeline
from lambdas.sql.engine import DatabaseTimeouts
from lambdas.stages import StageContext, engine_for, prefetch_shared_cache

log = structlog.get_logger()


def list_sync_requests(
    *, settings: Settings, engine: Engine | None = None
) -> list[SteamImportEvent]:
    """One stage-1 event per user whose Steam account is connected (User.steamId64)."""
    database = (
        engine
        if engine is not None
        else engine_for(settings.resolved_database_url, DatabaseTimeouts.from_settings(settings))
    )
    return [
        SteamImportEvent(user_id=user_id, steam_id64=steam_id64)
        for user_id, steam_id64 in connected_users(database)
    ]


@dataclass(slots=True)
class SyncSummary:
    results: list[PipelineResult] = field(default_factory=list)
    #: The shared-cache look-up before stage 2: its GetItems calls, IGDB requests, cache hits.
    prefetched: EnrichmentStats = field(default_factory=EnrichmentStats)

    @property
    def succeeded(self) -> int:
        return sum(1 for result in self.results if result.success)

    @property
    def failed(self) -> int:
        return len(self.results) - self.succeeded


async def sync_all(*, context: StageContext, new_import_id: Callable[[], str]) -> SyncSummary:
    """Re-import every connected user; a failing user is reported and skipped.

    Users go in batches of `SYNC_BATCH_USERS`. In each, stage 1 runs for every user first; then
    one look-up of all their apps fills the shared app cache (each app asked once, in full
    batches), and stages 2 and 3 run user by user and find their answers there. A failed look-up
    only costs the users' own stage 2 the requests. The batch bounds how old a user's Steam data
    is when it is loaded, and how much an interrupted sync leaves unloaded.
    """
    summary = SyncSummary()
    requests = list_sync_requests(settings=context.settings, engine=context.database())
    size = context.settings.sync_batch_users
    for start in range(0, len(requests), size):
        await _sync_batch(requests[start : start + size], summary, context, new_import_id)
    log.info("sync.finished", users=len(summary.results), failed=summary.failed)
    return summary


async def _sync_batch(
    requests: list[SteamImportEvent],
    summary: SyncSummary,
    context: StageContext,
    new_import_id: Callable[[], str],
) -> None:
    fetched: list[PipelineResult] = []
    for event in requests:
        fetched.append(
            await run_pipeline(
                first_event=event.model_dump(exclude_none=True),
                context=context,
                import_id=new_import_id(),
                until=Stage.STEAM,
                announce=False,
            )
        )
    responses = [result.response(Stage.STEAM) for result in fetched if result.success]
    try:
        summary.prefetched = summary.prefetched.plus(
            await prefetch_shared_cache(responses, context)
        )
    except PipelineError as exc:
        log.warning("sync.prefetch_failed", error_code=exc.code, error=exc.message)
    for result in fetched:
        steam = result.response(Stage.STEAM)
        if result.success and steam is not None:
            rest = await run_pipeline(
                first_event=steam.model_dump(mode="json"),
                context=context,
                import_id=result.import_id,
                from_stage=Stage.ENRICH,
                announce=False,
            )
            result.runs.extend(rest.runs)
        announce_finished(result)
        summary.results.append(result)
