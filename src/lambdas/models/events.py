"""Events and responses of the Lambda handlers: the contracts Step Functions and SQS pass on.

Stage events ignore unknown keys, because each stage receives the previous stage's whole response;
responses forbid them. Every response carries `user_id` and `import_id`, so it is a valid input of
the next stage.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lambdas.errors import InvalidEventError, PipelineError


class Stage(StrEnum):
    """The three stages, by the name the CLI and run reports use; `handler_name` is Lambda's."""

    STEAM = "steam"
    ENRICH = "enrich"
    LOAD = "load"

    @property
    def handler_name(self) -> str:
        """The Lambda function (and module under `handlers/`) that runs the stage."""
        return _HANDLER_NAMES[self]


_HANDLER_NAMES = {
    Stage.STEAM: "steam_import",
    Stage.ENRICH: "igdb_enrichment",
    Stage.LOAD: "database_import",
}


class LambdaContext(Protocol):
    """What the handlers read of the Lambda runtime's context object."""

    @property
    def aws_request_id(self) -> str: ...

    @property
    def function_name(self) -> str: ...


class SqsRecord(BaseModel):
    """One message of an SQS → Lambda batch, as far as the starter reads it."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    message_id: str = Field(alias="messageId", min_length=1)
    body: str = ""


class SqsBatch(BaseModel):
    """The event SQS hands a Lambda function: up to ten records."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    records: list[SqsRecord] = Field(alias="Records", default_factory=list)


class StageEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    user_id: str = Field(min_length=1, max_length=1024)
    import_id: str | None = Field(default=None, max_length=64)

    @classmethod
    def parse(cls, raw: Any, *, stage: str) -> Self:
        """The event, or INVALID_EVENT naming the first problems (never the values themselves)."""
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'event'}: {error['msg']}"
                for error in exc.errors()[:5]
            )
            raise InvalidEventError(f"the {stage} event is invalid: {problems}") from exc


class StageResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    success: bool
    user_id: str | None = None
    import_id: str | None = None
    error: str | None = None
    error_code: str | None = None

    @classmethod
    def failure(
        cls, error: PipelineError, *, user_id: str | None = None, import_id: str | None = None
    ) -> Self:
        return cls(
            success=False,
            user_id=user_id,
            import_id=import_id,
            error=error.message,
            error_code=error.code,
        )


class SteamImportEvent(StageEvent):
    """Stage 1 input; `steam_id64` may also be a vanity name or a profile URL."""

    steam_id64: str = Field(min_length=1, max_length=4096)
    refresh_metadata: bool = False

    @field_validator("steam_id64", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class SteamImportResponse(StageResponse):
    s3_location: str | None = None
    refresh_metadata: bool = False
    game_count: int = 0
    steam_id64: str | None = None
    steam_requests: int = Field(default=0, description="Steam Web API requests, retries included")
    wishlist: str = Field(
        default="off", description="imported, empty, private, skipped (the call failed) or off"
    )
    wishlist_items: int = Field(default=0, description="wishlisted apps stored, owned ones too")
    wishlist_reason: str | None = Field(default=None, description="why it was skipped")
    wishlist_requests: int = Field(
        default=0, description="keyless Steam requests: GetWishlist, GetItems for names"
    )
    unchanged: bool = Field(
        default=False,
        description="the library and every input are as last committed and no reuse window has "
        "passed: stages 2 and 3 have nothing to do (the state machine skips them)",
    )
    #: When unchanged: the committed enriched CSV and its counts, for the skipped stages' answers.
    s3_enriched_location: str | None = None
    previous_stats: EnrichmentStats | None = None


class IgdbEnrichmentEvent(StageEvent):
    s3_location: str = Field(min_length=1, max_length=4096)
    refresh_metadata: bool = Field(default=False, description="ignore the previous enriched CSV")
    wishlist: str | None = Field(
        default=None,
        description="stage 1's wishlist outcome; when skipped or off, the committed wishlist "
        "fingerprint is kept (unknown: the raw wishlist CSV, if any, is the wishlist)",
    )


class EnrichmentStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    processed: int = 0
    matched: int = 0
    unmatched: int = 0
    filtered: int = 0
    matched_by_title: int = 0
    reused: int = Field(default=0, description="rows taken from the previous enriched CSV")
    filtered_by_kind: dict[str, int] = Field(default_factory=dict)
    filtered_by_reason: dict[str, int] = Field(
        default_factory=dict, description="non-games per deciding source, e.g. steam_type=4"
    )
    igdb_requests: int = Field(default=0, description="IGDB and Twitch requests of this run")
    wishlist_items: int = Field(default=0, description="wishlisted apps: owned + the three below")
    wishlist_owned: int = Field(default=0, description="wishlisted apps the user owns too")
    wishlist_matched: int = Field(default=0, description="wishlisted games matched, not owned")
    wishlist_unmatched: int = Field(default=0, description="wishlisted games unmatched, not owned")
    wishlist_filtered: int = Field(default=0, description="wishlisted non-games (DLC, …)")
    steam_store_calls: int = Field(default=0, description="Steam GetItems calls of this run")
    store_type_cache_hits: int = Field(
        default=0, description="apps whose store type the shared app cache answered (fresh)"
    )
    store_type_cache_misses: int = Field(
        default=0, description="apps whose store type was looked up there and not found fresh"
    )
    igdb_cache_hits: int = Field(
        default=0, description="apps whose IGDB answer the shared app cache answered (fresh)"
    )
    igdb_cache_misses: int = Field(
        default=0, description="apps whose IGDB answer was looked up there and not found fresh"
    )
    store_unavailable: int = Field(
        default=0,
        description="apps decided without Steam's store type because GetItems failed (their "
        "reason says `store unavailable`); a filter is reversible, and the next run re-decides "
        "them once the store answers",
    )

    def plus(self, other: EnrichmentStats) -> EnrichmentStats:
        """The two runs' counts added up, per kind and per reason too."""
        summed: dict[str, Any] = {}
        for name, mine in self:
            theirs = getattr(other, name)
            if isinstance(mine, dict):
                summed[name] = {k: mine.get(k, 0) + theirs.get(k, 0) for k in {*mine, *theirs}}
            else:
                summed[name] = mine + theirs
        return EnrichmentStats(**summed)


#: The layout of `LibraryState`; a state of another version is ignored (a full import).
STATE_VERSION = 1


class ReuseWindows(BaseModel):
    """How long decisions are trusted (from the settings of the run that reads the state)."""

    model_config = ConfigDict(frozen=True)

    matched: timedelta
    unmatched: timedelta
    filtered: timedelta

    @classmethod
    def of(cls, *, reuse_days: float, recheck_hours: float, type_ttl_days: float) -> ReuseWindows:
        """ENRICHMENT_REUSE_DAYS, UNMATCHED_RECHECK_HOURS and STEAM_TYPE_TTL_DAYS as windows; a
        filtered app is decided from the store type or IGDB, so it waits for the shorter one."""
        return cls(
            matched=timedelta(days=reuse_days),
            unmatched=timedelta(hours=recheck_hours),
            filtered=timedelta(days=min(reuse_days, type_ttl_days)),
        )

    def due(self, since: datetime | None, window: timedelta, now: datetime) -> bool:
        return since is not None and now - since > window


class LibraryState(BaseModel):
    """The last committed import of one user's library (no per-app data: a few hundred bytes)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: int = STATE_VERSION
    user_id: str = Field(min_length=1, max_length=128)
    import_id: str | None = None
    committed_at: datetime | None = None
    inputs: dict[str, str] = Field(default_factory=dict)
    raw_location: str | None = None
    enriched_location: str = Field(min_length=1, max_length=4096)
    #: Oldest decision among matched / unmatched games; when every filtered app was decided.
    matched_since: datetime | None = None
    unmatched_since: datetime | None = None
    filtered_since: datetime | None = None
    #: The library's counts as committed (processed = matched + unmatched + filtered).
    stats: EnrichmentStats = Field(default_factory=EnrichmentStats)
    #: Some apps were decided without Steam's store (it was down): the next import asks again.
    recheck: bool = False

    def due(self, now: datetime, windows: ReuseWindows) -> bool:
        """Whether some decision's reuse window has passed (then the import is not a no-op)."""
        return (
            self.recheck
            or windows.due(self.matched_since, windows.matched, now)
            or windows.due(self.unmatched_since, windows.unmatched, now)
            or windows.due(self.filtered_since, windows.filtered, now)
        )

    def unchanged_for(self, inputs: dict[str, str], now: datetime, windows: ReuseWindows) -> bool:
        """Whether an import with these inputs, now, has nothing to do."""
        return (
            self.version == STATE_VERSION and self.inputs == inputs and not self.due(now, windows)
        )

    def reused_stats(self) -> EnrichmentStats:
        """The committed counts as an import that decided nothing reports them."""
        return self.stats.model_copy(
            update={
                "reused": self.stats.matched + self.stats.unmatched,
                "igdb_requests": 0,
                "steam_store_calls": 0,
                "store_type_cache_hits": 0,
                "store_type_cache_misses": 0,
                "igdb_cache_hits": 0,
                "igdb_cache_misses": 0,
            }
        )


class LibraryChanges(BaseModel):
    """How today's library differs from the last committed import; the four counts add up to
    the apps in the library (`dropped` apps are no longer in it and are left alone)."""

    model_config = ConfigDict(extra="forbid")

    new: int = Field(default=0, description="apps the last committed import did not have")
    changed: int = Field(default=0, description="apps whose name, playtimes or icon moved")
    due: int = Field(default=0, description="unchanged apps whose reuse window has passed")
    unchanged: int = Field(default=0, description="apps left as committed (not sent on)")
    dropped: int = Field(default=0, description="committed apps Steam no longer lists")
    full: bool = Field(
        default=True, description="no usable committed state: every app was decided and sent"
    )


class IgdbEnrichmentResponse(StageResponse):
    s3_enriched_location: str | None = None
    stats: EnrichmentStats = Field(default_factory=EnrichmentStats)
    unchanged: bool = Field(
        default=False, description="no app differs from the committed import: stage 3 is skipped"
    )
    #: The rows stage 3 writes when only some apps changed (None: the whole enriched CSV).
    s3_changes_location: str | None = None
    changes: LibraryChanges = Field(default_factory=LibraryChanges)
    #: What stage 3 stores as the user's state once its transaction committed.
    state: LibraryState | None = None


class DatabaseImportEvent(StageEvent):
    s3_enriched_location: str = Field(min_length=1, max_length=4096)
    #: Only these rows are written (stage 2's changed apps); the filtered list is merged, not
    #: replaced, and the library's size for the shrink check is `stats`' games.
    s3_changes_location: str | None = Field(default=None, min_length=1, max_length=4096)
    stats: EnrichmentStats | None = None
    #: Stored after the transaction committed (stage 3 adds the import id and the time).
    state: LibraryState | None = None


class ImportStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    imported_games_created: int = 0
    imported_games_updated: int = 0
    games_created: int = 0
    games_updated: int = 0
    library_items_created: int = 0
    #: Matched games not added to the library because the user had removed their item (an
    #: import adds a game's item once: the first time its app is matched for the user).
    removed_by_user_left_out: int = 0
    #: Matched wishlisted games the user does not own, per app: created + in library + removed
    #: by the user + not written (curate mode, no wishlist status, or no own state).
    wishlist_items_created: int = 0
    wishlist_in_library: int = 0
    wishlist_removed_by_user: int = 0
    wishlist_not_written: int = 0
    wishlist_not_written_reason: str | None = None
    #: Bought games whose untouched WISHLIST item moved to the owned status.
    wishlist_promoted: int = 0
    #: Stored playtimes or last-played times a lower Steam value would have moved backwards.
    playtimes_kept: int = 0
    #: Steam answered with far fewer games than the user's stored library (SUSPICIOUS_SHRINK_RATIO).
    suspicious_shrink: bool = False
    #: The enriched CSV's signature verified (stage 2 wrote it). False: only the user's own rows
    #: were written, no shared Game, Genre or Platform.
    catalogue_verified: bool = True


class DatabaseImportResponse(StageResponse):
    stats: ImportStats = Field(default_factory=ImportStats)
    unchanged: bool = Field(
        default=False, description="skipped: the library was as committed, no row was sent"
    )


class BatchUser(BaseModel):
    """One user of a scheduled sync batch: stage 1's event, with the import id always set."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    user_id: str = Field(min_length=1, max_length=128)
    import_id: str = Field(min_length=1, max_length=64)


class SharedPrefetchEvent(BaseModel):
    """The sync batch's prefetch step: the users whose stage 1 ran in this batch."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    users: list[BatchUser] = Field(max_length=10_000)


class SharedPrefetchResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    success: bool
    users: int = Field(default=0, description="users in the batch")
    fetched: int = Field(default=0, description="users whose stage-1 result was found")
    stats: EnrichmentStats = Field(default_factory=EnrichmentStats)
    error: str | None = None
    error_code: str | None = None
