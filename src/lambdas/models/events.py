"""Events and responses of the Lambda handlers: the contracts Step Functions and SQS pass on.

Stage events ignore unknown keys, because each stage receives the previous stage's whole response;
responses forbid them. Every response carries `user_id` and `import_id`, so it is a valid input of
the next stage.
"""

from __future__ import annotations

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


class IgdbEnrichmentEvent(StageEvent):
    s3_location: str = Field(min_length=1, max_length=4096)
    refresh_metadata: bool = Field(default=False, description="ignore the previous enriched CSV")


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


class IgdbEnrichmentResponse(StageResponse):
    s3_enriched_location: str | None = None
    stats: EnrichmentStats = Field(default_factory=EnrichmentStats)


class DatabaseImportEvent(StageEvent):
    s3_enriched_location: str = Field(min_length=1, max_length=4096)


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
