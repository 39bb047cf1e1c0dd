"""The three stages as the state machine sees them: one event model in, one response model out.

Handlers and the in-process pipeline run these same `StageSpec`s, so the CLI runs exactly what
Step Functions runs. Errors propagate as exceptions here; callers turn permanent ones into
`success: false` responses with the response model's `failure`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import structlog

from lambdas.clients.budget import time_budget
from lambdas.clients.s3 import (
    Storage,
    read_library_state,
    receipt_key,
    storage_from_settings,
    validate_user_id,
    write_library_state,
)
from lambdas.config import Settings
from lambdas.errors import (
    InvalidEventError,
    LocationNotFoundError,
    MalformedCsvError,
    PipelineError,
)
from lambdas.models.csv_codec import (
    appid_in_cell,
    header_of,
    iter_records,
    iter_rows,
    parse_record,
)
from lambdas.models.events import (
    DatabaseImportEvent,
    DatabaseImportResponse,
    EnrichmentStats,
    IgdbEnrichmentEvent,
    IgdbEnrichmentResponse,
    ImportStats,
    Stage,
    StageEvent,
    StageResponse,
    SteamImportEvent,
    SteamImportResponse,
)
from lambdas.models.library_state import MODE
from lambdas.models.rows import (
    EnrichedGameRow,
    EnrichedWishlistRow,
    RawGameRow,
    WishlistRow,
    stored_alike,
)

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Engine

    from lambdas.clients.signing import CsvSigner
    from lambdas.enrichment.enrich import Progress
    from lambdas.sql.engine import DatabaseTimeouts

log = structlog.get_logger()

# Each stage imports its service when it first runs, so a Lambda handler loads only its own
# stage's dependencies (stage 3 never loads httpx; stage 1 never loads SQLAlchemy, stage 2 loads
# it on its first run for the shared app cache).


@dataclass(frozen=True)
class StageContext:
    """What a stage needs besides its event: settings, storage, the clock, test doubles."""

    settings: Settings
    storage: Storage
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    transport: httpx.AsyncBaseTransport | None = None
    engine: Engine | None = None
    progress: Progress | None = None
    #: Seconds the stage may take, when shorter than STAGE_TIME_BUDGET_SECONDS (a Lambda's
    #: remaining time less a margin).
    time_left: float | None = None

    @property
    def budget_seconds(self) -> float:
        budget = self.settings.stage_time_budget_seconds
        return budget if self.time_left is None else min(budget, self.time_left)

    @classmethod
    def from_settings(cls, settings: Settings) -> StageContext:
        return cls(settings=settings, storage=storage_from_settings(settings))

    def database(self) -> Engine:
        if self.engine is not None:
            return self.engine
        from lambdas.sql.engine import DatabaseTimeouts

        return engine_for(
            self.settings.resolved_database_url, DatabaseTimeouts.from_settings(self.settings)
        )


@cache
def engine_for(url: str, timeouts: DatabaseTimeouts | None = None) -> Engine:
    """One engine (and connection pool) per database URL, timeouts and process."""
    from lambdas.sql.engine import create_engine

    return create_engine(url, timeouts)


async def steam_stage(event: SteamImportEvent, context: StageContext) -> SteamImportResponse:
    from lambdas.steam.library import import_steam_library

    if event.import_id is None:  # StageSpec.run always assigns one
        raise InvalidEventError("the steam_import event has no import_id")
    stored = stored_steam_response(
        context.storage, user_id=event.user_id, import_id=event.import_id
    )
    if stored is not None:
        log.info("steam.reused", location=stored.s3_location, game_count=stored.game_count)
        return stored.model_copy(update={"refresh_metadata": event.refresh_metadata})
    result = await import_steam_library(
        user_id=event.user_id,
        account=event.steam_id64,
        settings=context.settings,
        storage=context.storage,
        now=context.now(),
        import_id=event.import_id,
        transport=context.transport,
        refresh_metadata=event.refresh_metadata,
    )
    response = SteamImportResponse(
        success=True,
        user_id=event.user_id,
        import_id=event.import_id,
        s3_location=result.location,
        refresh_metadata=event.refresh_metadata,
        game_count=result.game_count,
        steam_id64=str(result.steam_id64),
        steam_requests=result.steam_requests,
        wishlist=result.wishlist.outcome.value,
        wishlist_items=len(result.wishlist.rows),
        wishlist_reason=result.wishlist.reason,
        wishlist_requests=result.wishlist.requests,
        unchanged=result.unchanged,
        s3_enriched_location=result.enriched_location,
        previous_stats=result.previous_stats,
    )
    context.storage.put(
        receipt_key(event.user_id, event.import_id), response.model_dump_json().encode()
    )
    return response


def stored_steam_response(
    storage: Storage, *, user_id: str, import_id: str
) -> SteamImportResponse | None:
    """Stage 1's response already stored for this import id, if any.

    A repeat of the same import (an SQS redelivery, a re-run sync batch, the batch's own import
    of a user it fetched) reuses what Steam answered instead of asking again; its
    `steam_requests` is then 0. Anything unusable there is ignored.
    """
    receipt = receipt_key(validate_user_id(user_id), import_id)
    try:
        stored = SteamImportResponse.model_validate_json(
            storage.get(storage.location_of(receipt), user_id=user_id)
        )
    except LocationNotFoundError:
        return None
    except (PipelineError, ValueError) as exc:
        log.warning("steam.receipt_unusable", reason=type(exc).__name__)
        return None
    if not stored.success or stored.user_id != user_id or stored.s3_location is None:
        return None
    return stored.model_copy(update={"steam_requests": 0})


async def enrichment_stage(
    event: IgdbEnrichmentEvent, context: StageContext
) -> IgdbEnrichmentResponse:
    from lambdas.enrichment.enrich import enrich_library, no_progress
    from lambdas.state.app_cache import open_shared_state

    validate_user_id(event.user_id)
    app_cache, kept = open_shared_state(context.database(), user_id=event.user_id)
    state = None if event.refresh_metadata else read_library_state(context.storage, event.user_id)
    result = await enrich_library(
        user_id=event.user_id,
        location=event.s3_location,
        settings=context.settings,
        storage=context.storage,
        now=context.now(),
        transport=context.transport,
        progress=context.progress or no_progress,
        refresh_metadata=event.refresh_metadata,
        app_cache=app_cache,
        kept=kept,
        state=state,
        wishlist_outcome=event.wishlist,
    )
    return IgdbEnrichmentResponse(
        success=True,
        user_id=event.user_id,
        import_id=event.import_id,
        s3_enriched_location=result.location,
        stats=result.stats,
        unchanged=result.unchanged,
        s3_changes_location=result.changes_location,
        changes=result.changes,
        state=result.state,
    )


async def prefetch_shared_cache(
    imported: Sequence[SteamImportResponse], context: StageContext
) -> EnrichmentStats:
    """Stage 2's look-ups for many users' raw CSVs at once, into the shared app cache.

    `steam-import sync` runs it between every user's stage 1 and their stages 2 and 3, so an
    app is asked once per sync, not once per user whose library holds it. Only the apps (one
    row each) are kept in memory while the CSVs are read, not the users' rows.
    """
    from lambdas.enrichment.enrich import prefetch_shared
    from lambdas.models.app_cache import NO_APP_CACHE
    from lambdas.state.app_cache import open_app_cache

    app_cache = open_app_cache(context.database())
    if app_cache is NO_APP_CACHE:
        return EnrichmentStats()
    apps: dict[int, RawGameRow] = {}
    appid_at = header_of(RawGameRow).index("appid")
    for response in imported:
        if response.unchanged or response.s3_location is None or response.user_id is None:
            continue  # an unchanged library runs no stage 2
        data = context.storage.get(response.s3_location, user_id=response.user_id)
        for line_number, record in iter_records(data, RawGameRow, what="raw CSV"):
            # Libraries overlap (356,000 rows, 23,000 apps for 1,000 users): a row is validated
            # only for an app not seen yet. Each user's own stage 2 validates all its rows.
            if len(record) > appid_at and appid_in_cell(record[appid_at]) in apps:
                continue
            row = parse_record(record, RawGameRow, line_number, what="raw CSV")
            apps.setdefault(row.appid, row)
        for wished in _raw_wishlist_beside(context.storage, response.s3_location, response.user_id):
            apps.setdefault(wished.appid, RawGameRow(appid=wished.appid, name=wished.name))
    return await prefetch_shared(
        apps.values(),
        settings=context.settings,
        app_cache=app_cache,
        now=context.now(),
        transport=context.transport,
    )


async def database_stage(
    event: DatabaseImportEvent, context: StageContext
) -> DatabaseImportResponse:
    from dataclasses import replace

    from lambdas.clients.signing import Verdict, read_verified, signer_from_settings
    from lambdas.database.loader import LoadOptions, import_rows

    validate_user_id(event.user_id)
    started = time.perf_counter()
    partial = event.s3_changes_location is not None
    location = event.s3_changes_location or event.s3_enriched_location
    signer = signer_from_settings(context.settings)
    data, verdict = read_verified(context.storage, location, user_id=event.user_id, signer=signer)
    if verdict is not Verdict.VERIFIED:
        # A file stage 2 did not sign (or another user's, or edited) is the user's word only:
        # it may write that user's own rows, never a shared Game, Genre or Platform.
        log.warning(
            "database.catalogue_unverified",
            signature=verdict,
            location=location,
            effect="only the user's own rows are written; no Game, Genre or Platform",
        )
    wishes = _wishlist_beside(context.storage, event.s3_enriched_location, event.user_id, signer)
    options = replace(
        LoadOptions.from_settings(context.settings),
        catalogue_verified=verdict is Verdict.VERIFIED,
    )
    if (
        partial
        and verdict is Verdict.VERIFIED
        and _holds_no_row(data)
        and not _wishlist_to_write(event, context, wishes, signer)
    ):
        # Stage 2 sent no row (each app is in the database as committed) and the wishlist is
        # as committed: no statement is run, and the state moves on (enriched_at and all).
        _commit_state(event, context, mode=options.mode.value)
        log.info(
            "stage.finished",
            stage=Stage.LOAD.handler_name,
            rows=0,
            partial=partial,
            nothing_to_write=True,
            duration_s=round(time.perf_counter() - started, 3),
        )
        return DatabaseImportResponse(
            success=True, user_id=event.user_id, import_id=event.import_id, stats=ImportStats()
        )
    read = 0
    # The CSV's bytes are handed to the row stream and dropped here, so they are freed once
    # the payload is built, before the statements run (20 MB for 20,000 games).
    source = [data]
    del data

    def rows() -> Iterator[EnrichedGameRow]:
        # Streamed into the writer's payload, so rows it does not write (non-games) and the
        # decoded rows as a whole are never all in memory beside the payload.
        nonlocal read
        for row in iter_rows(source.pop(), EnrichedGameRow, what="enriched CSV"):
            read += 1
            yield row

    library = event.stats
    stats = import_rows(
        context.database(),
        user_id=event.user_id,
        rows=rows(),
        options=options,
        partial=partial,
        library_games=library.matched + library.unmatched if library is not None else None,
        wishes=wishes,
    )
    if options.catalogue_verified:  # an unverified file wrote only part of what it holds
        _commit_state(event, context, mode=options.mode.value)
    log.info(
        "stage.finished",
        stage=Stage.LOAD.handler_name,
        rows=read,
        partial=partial,
        duration_s=round(time.perf_counter() - started, 3),
        **stats.model_dump(),
    )
    return DatabaseImportResponse(
        success=True, user_id=event.user_id, import_id=event.import_id, stats=stats
    )


def _holds_no_row(data: bytes) -> bool:
    """Whether an enriched CSV holds its header and no row (a malformed one is left to the
    import, which says so)."""
    try:
        return next(iter_records(data, EnrichedGameRow, what="enriched CSV"), None) is None
    except MalformedCsvError:
        return False


def _wishlist_to_write(
    event: DatabaseImportEvent,
    context: StageContext,
    wishes: Sequence[EnrichedWishlistRow],
    signer: CsvSigner,
) -> bool:
    """Whether an import sending no row still has the wishlist to write: it has one, and it is
    not the committed import's in everything stage 3 stores (as when that import's files were
    stored over, or there is no committed import)."""
    if not wishes:
        return False  # an import without wishlist rows writes nothing of the wishlist
    committed = read_library_state(context.storage, event.user_id)
    if committed is None or committed.enriched_location == event.s3_enriched_location:
        return True
    before = _wishlist_beside(context.storage, committed.enriched_location, event.user_id, signer)
    return len(before) != len(wishes) or not all(
        stored_alike(old, new) for old, new in zip(before, wishes, strict=True)
    )


def _wishlist_beside(
    storage: Storage, location: str, user_id: str, signer: CsvSigner
) -> list[EnrichedWishlistRow]:
    """The enriched wishlist stage 2 stored (and signed) beside the enriched CSV; none when it
    stored none, or when its signature does not verify (its games would be shared Game rows)."""
    from lambdas.clients.s3 import wishlist_key_for
    from lambdas.clients.signing import Verdict, read_verified
    from lambdas.errors import LocationNotFoundError
    from lambdas.models.csv_codec import decode_rows

    sibling = wishlist_key_for(storage.key_of(location, user_id=user_id))
    if sibling is None:
        return []
    try:
        data, verdict = read_verified(
            storage, storage.location_of(sibling), user_id=user_id, signer=signer
        )
    except LocationNotFoundError:
        return []
    if verdict is not Verdict.VERIFIED:
        log.warning("database.wishlist_unverified", signature=verdict, effect="not imported")
        return []
    return decode_rows(data, EnrichedWishlistRow, what="enriched wishlist CSV")


def _raw_wishlist_beside(storage: Storage, location: str, user_id: str) -> list[WishlistRow]:
    """The wishlisted apps stage 1 stored beside the raw CSV that the user does not own."""
    rows = _beside(storage, location, user_id, WishlistRow, "wishlist CSV")
    return [row for row in rows if not row.owned]


def _beside(
    storage: Storage, location: str, user_id: str, model: type[WishlistRow], what: str
) -> list[WishlistRow]:
    from lambdas.clients.s3 import get_wishlist_beside
    from lambdas.models.csv_codec import decode_rows

    key = storage.key_of(location, user_id=user_id)
    data = get_wishlist_beside(storage, key, user_id=user_id)
    return [] if data is None else decode_rows(data, model, what=what)


def _commit_state(event: DatabaseImportEvent, context: StageContext, *, mode: str) -> None:
    """Store the user's state once the import committed: the next import compares with it.

    Stored after the commit, never before, so a failed or interrupted import leaves the last
    committed state (the next import then does this one's work again). A state that cannot be
    stored only costs the next import the full work, so that is a warning, not a failure.
    """
    state = event.state
    if state is None or state.user_id != event.user_id:
        return
    committed = state.model_copy(
        update={
            "import_id": event.import_id,
            "committed_at": context.now(),
            "inputs": {**state.inputs, MODE: mode},
        }
    )
    try:
        write_library_state(context.storage, committed)
    except PipelineError as exc:
        log.warning("database.state_not_stored", error_code=exc.code, error=exc.message)


def skipped_response(stage: Stage, previous: dict[str, Any]) -> StageResponse:
    """What `stage` answers, without running, after a stage that found nothing to do
    (`unchanged`): the state machine's Skip… Pass states build the same from the responses."""
    ids = {"user_id": previous.get("user_id"), "import_id": previous.get("import_id")}
    if stage is Stage.ENRICH:
        return IgdbEnrichmentResponse(
            success=True,
            unchanged=True,
            s3_enriched_location=previous.get("s3_enriched_location"),
            stats=EnrichmentStats.model_validate(previous.get("previous_stats") or {}),
            **ids,
        )
    if stage is Stage.LOAD:
        return DatabaseImportResponse(success=True, unchanged=True, **ids)
    raise InvalidEventError(f"the {stage.handler_name} stage is never skipped")


E = TypeVar("E", bound=StageEvent)
R = TypeVar("R", bound=StageResponse)


@dataclass(frozen=True, slots=True)
class StageSpec(Generic[E, R]):
    """One stage: its name, event and response contracts, and the work between them."""

    stage: Stage
    event_model: type[E]
    response_model: type[R]
    work: Callable[[E, StageContext], Awaitable[R]]

    def event(self, payload: object, *, import_id: str) -> E:
        """The stage's event from a raw payload, with this run's import id; else INVALID_EVENT."""
        event = self.event_model.parse(payload, stage=self.stage.handler_name)
        return event.model_copy(update={"import_id": import_id})

    async def run(self, payload: object, context: StageContext, *, import_id: str) -> R:
        """Validate the payload, then do the stage's work within its time budget."""
        event = self.event(payload, import_id=import_id)
        with time_budget(context.budget_seconds):
            return await self.work(event, context)


STEAM = StageSpec(Stage.STEAM, SteamImportEvent, SteamImportResponse, steam_stage)
ENRICH = StageSpec(Stage.ENRICH, IgdbEnrichmentEvent, IgdbEnrichmentResponse, enrichment_stage)
LOAD = StageSpec(Stage.LOAD, DatabaseImportEvent, DatabaseImportResponse, database_stage)
#: Every stage in run order (heterogeneous, hence Any; each spec itself is fully typed).
STAGES: tuple[StageSpec[Any, Any], ...] = (STEAM, ENRICH, LOAD)
