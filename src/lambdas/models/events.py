"""Events and responses of the three stage handlers: the contracts Step Functions passes on.

Events ignore unknown keys, because each stage receives the previous stage's whole response;
responses forbid them. Every response carries `user_id` and `import_id`, so it is a valid input of
the next stage.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lambdas.errors import PipelineError


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    user_id: str = Field(min_length=1, max_length=1024)
    import_id: str | None = Field(default=None, max_length=64)


class _Response(BaseModel):
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


class SteamImportEvent(_Event):
    """Stage 1 input; `steam_id64` may also be a vanity name or a profile URL."""

    steam_id64: str = Field(min_length=1, max_length=4096)
    refresh_metadata: bool = False

    @field_validator("steam_id64", mode="before")
    @classmethod
    def _numbers_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class SteamImportResponse(_Response):
    s3_location: str | None = None
    refresh_metadata: bool = False
    game_count: int = 0
    steam_id64: str | None = None


class IgdbEnrichmentEvent(_Event):
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


class IgdbEnrichmentResponse(_Response):
    s3_enriched_location: str | None = None
    stats: EnrichmentStats = Field(default_factory=EnrichmentStats)


class DatabaseImportEvent(_Event):
    s3_enriched_location: str = Field(min_length=1, max_length=4096)


class ImportStats(BaseModel):
    model_config = ConfigDict(extra="forbid")

    imported_games_created: int = 0
    imported_games_updated: int = 0
    games_created: int = 0
    games_updated: int = 0
    library_items_created: int = 0
    #: Stored playtimes or last-played times a lower Steam value would have moved backwards.
    playtimes_kept: int = 0
    #: Steam answered with far fewer games than the user's stored library (SUSPICIOUS_SHRINK_RATIO).
    suspicious_shrink: bool = False


class DatabaseImportResponse(_Response):
    stats: ImportStats = Field(default_factory=ImportStats)
