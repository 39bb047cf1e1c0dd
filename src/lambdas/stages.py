"""The three stages as the state machine sees them: one event model in, one response model out.

Handlers and the in-process pipeline call these same functions, so the CLI runs exactly what
Step Functions runs. Errors propagate as exceptions here; callers turn permanent ones into
`success: false` responses with the response model's `failure`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

import structlog

from lambdas.clients.s3 import Storage, storage_from_settings, validate_user_id
from lambdas.config import Settings
from lambdas.models.csv_codec import iter_rows
from lambdas.models.events import (
    DatabaseImportEvent,
    DatabaseImportResponse,
    IgdbEnrichmentEvent,
    IgdbEnrichmentResponse,
    SteamImportEvent,
    SteamImportResponse,
)
from lambdas.models.rows import EnrichedGameRow

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Engine

    from lambdas.database.engine import DatabaseTimeouts
    from lambdas.enrichment.enrich import Progress

log = structlog.get_logger()

# Each stage imports its service when it first runs, so a Lambda handler loads only its own
# stage's dependencies (stage 3 never loads httpx; stages 1 and 2 never load SQLAlchemy).


@dataclass(frozen=True)
class StageContext:
    """What a stage needs besides its event: settings, storage, the clock, test doubles."""

    settings: Settings
    storage: Storage
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    transport: httpx.AsyncBaseTransport | None = None
    engine: Engine | None = None
    progress: Progress | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> StageContext:
        return cls(settings=settings, storage=storage_from_settings(settings))

    def database(self) -> Engine:
        if self.engine is not None:
            return self.engine
        from lambdas.database.engine import DatabaseTimeouts

        return engine_for(
            self.settings.resolved_database_url, DatabaseTimeouts.from_settings(self.settings)
        )


@cache
def engine_for(url: str, timeouts: DatabaseTimeouts | None = None) -> Engine:
    """One engine (and connection pool) per database URL, timeouts and process."""
    from lambdas.database.engine import create_engine

    return create_engine(url, timeouts)


async def steam_stage(event: SteamImportEvent, context: StageContext) -> SteamImportResponse:
    from lambdas.steam.library import import_steam_library

    assert event.import_id is not None, "the caller assigns the import id"
    result = await import_steam_library(
        user_id=event.user_id,
        account=event.steam_id64,
        settings=context.settings,
        storage=context.storage,
        now=context.now(),
        import_id=event.import_id,
        transport=context.transport,
    )
    return SteamImportResponse(
        success=True,
        user_id=event.user_id,
        import_id=event.import_id,
        s3_location=result.location,
        refresh_metadata=event.refresh_metadata,
        game_count=result.game_count,
        steam_id64=str(result.steam_id64),
    )


async def enrichment_stage(
    event: IgdbEnrichmentEvent, context: StageContext
) -> IgdbEnrichmentResponse:
    from lambdas.enrichment.enrich import enrich_library, no_progress

    result = await enrich_library(
        user_id=event.user_id,
        location=event.s3_location,
        settings=context.settings,
        storage=context.storage,
        now=context.now(),
        transport=context.transport,
        progress=context.progress or no_progress,
        refresh_metadata=event.refresh_metadata,
    )
    return IgdbEnrichmentResponse(
        success=True,
        user_id=event.user_id,
        import_id=event.import_id,
        s3_enriched_location=result.location,
        stats=result.stats,
    )


async def database_stage(
    event: DatabaseImportEvent, context: StageContext
) -> DatabaseImportResponse:
    from lambdas.database.loader import import_rows

    validate_user_id(event.user_id)
    started = time.perf_counter()
    data = context.storage.get(event.s3_enriched_location, user_id=event.user_id)
    read = 0

    def rows() -> Iterator[EnrichedGameRow]:
        # Streamed into the writer's payload, so rows it does not write (non-games) and the
        # decoded rows as a whole are never all in memory beside the payload.
        nonlocal read
        for row in iter_rows(data, EnrichedGameRow, what="enriched CSV"):
            read += 1
            yield row

    stats = import_rows(
        context.database(),
        user_id=event.user_id,
        rows=rows(),
        status_unplayed=context.settings.library_status_unplayed,
        status_played=context.settings.library_status_played,
    )
    log.info(
        "stage.finished",
        stage="database_import",
        rows=read,
        duration_s=round(time.perf_counter() - started, 3),
        **stats.model_dump(),
    )
    return DatabaseImportResponse(
        success=True, user_id=event.user_id, import_id=event.import_id, stats=stats
    )
