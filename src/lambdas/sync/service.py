"""Periodic sync: one import per user with a Steam account connected; one failure stops none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from sqlalchemy.engine import Engine

from lambdas.config import Settings
from lambdas.database.engine import DatabaseTimeouts
from lambdas.database.users import connected_users
from lambdas.models.events import SteamImportEvent
from lambdas.pipeline import PipelineResult, run_pipeline
from lambdas.stages import StageContext, engine_for

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

    @property
    def succeeded(self) -> int:
        return sum(1 for result in self.results if result.success)

    @property
    def failed(self) -> int:
        return len(self.results) - self.succeeded


async def sync_all(*, context: StageContext, new_import_id: Callable[[], str]) -> SyncSummary:
    """Re-import every connected user in turn; a failing user is reported and skipped."""
    summary = SyncSummary()
    for event in list_sync_requests(settings=context.settings, engine=context.database()):
        result = await run_pipeline(
            first_event=event.model_dump(exclude_none=True),
            context=context,
            import_id=new_import_id(),
        )
        summary.results.append(result)
    log.info("sync.finished", users=len(summary.results), failed=summary.failed)
    return summary
