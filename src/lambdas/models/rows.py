"""The rows stored between stages: the raw CSV (stage 1) and the enriched CSV (stage 2).

These are our own contracts, so unknown fields are forbidden. Column order in the CSV files is the
field order here; list-valued columns hold JSON.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RawGameRow(_Row):
    """One owned app as Steam reported it (times in minutes, `rtime_last_played` in Unix s)."""

    appid: int = Field(ge=1, le=2**32 - 1)
    name: str
    playtime_forever: int = Field(default=0, ge=0)
    playtime_2weeks: int = Field(default=0, ge=0)
    playtime_windows_forever: int = Field(default=0, ge=0)
    playtime_mac_forever: int = Field(default=0, ge=0)
    playtime_linux_forever: int = Field(default=0, ge=0)
    playtime_deck_forever: int = Field(default=0, ge=0)
    playtime_disconnected: int = Field(default=0, ge=0)
    rtime_last_played: int = Field(default=0, ge=0, description="0 = never played")
    img_icon_url: str = ""
    has_community_visible_stats: bool = False


class AppKind(StrEnum):
    """What a Steam app is; only GAME is enriched and added to the library."""

    GAME = "GAME"
    DLC = "DLC"
    SOUNDTRACK = "SOUNDTRACK"
    DEMO = "DEMO"
    BETA = "BETA"
    TOOL = "TOOL"
    SERVER = "SERVER"
    MULTIPLAYER_COMPONENT = "MULTIPLAYER_COMPONENT"
    VIDEO = "VIDEO"
    BONUS_CONTENT = "BONUS_CONTENT"
    APPLICATION = "APPLICATION"


class MatchStatus(StrEnum):
    """Stage 2's verdict; FILTERED rows (non-games) are not written by stage 3."""

    MATCHED = "MATCHED"
    UNMATCHED = "UNMATCHED"
    FILTERED = "FILTERED"


class MatchMethod(StrEnum):
    NONE = "none"
    STEAM_APP_ID = "steam_app_id"
    TITLE = "title"
    MANUAL = "manual"


class GenreRef(_Row):
    id: int
    name: str
    slug: str
    checksum: str | None = None


class PlatformRef(_Row):
    id: int
    name: str
    slug: str
    abbreviation: str | None = None
    alternative_name: str | None = None
    generation: int | None = None
    platform_family: int | None = None
    platform_type: int | None = None
    checksum: str | None = None


class Candidate(_Row):
    """A possible IGDB game for an unmatched app, shown in the review list."""

    igdb_id: int
    name: str
    year: int | None = None


class EnrichedGameRow(RawGameRow):
    """A raw row plus classification and, when matched, the IGDB metadata stage 3 writes."""

    kind: AppKind
    classifier_rule: str
    match_status: MatchStatus
    match_method: MatchMethod = MatchMethod.NONE
    igdb_id: int | None = None
    igdb_name: str | None = None
    igdb_slug: str | None = None
    igdb_summary: str | None = None
    igdb_first_release_date: int | None = Field(default=None, description="Unix seconds")
    igdb_game_type: int | None = None
    igdb_franchise_id: int | None = None
    igdb_cover_image_id: str | None = None
    cover_url: str | None = None
    genres: list[GenreRef] = Field(default_factory=list)
    platforms: list[PlatformRef] = Field(default_factory=list)
    candidates: list[Candidate] = Field(default_factory=list)
    enriched_at: datetime | None = None
