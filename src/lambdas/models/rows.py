"""The rows stored between stages: the raw CSV (stage 1) and the enriched CSV (stage 2).

These are our own contracts, so unknown fields are forbidden. Column order in the CSV files is the
field order here; list-valued columns hold JSON.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lambdas.models.text import FORBIDDEN_IN_TITLE, text_problem, title_problem

#: Bounds of the database columns the integers land in (PostgreSQL INTEGER; Steam's uint32 Unix
#: times; Unix seconds a timestamp can hold, years 1-9999), so an out-of-range value in a stored
#: CSV is MALFORMED_CSV when read instead of a database error halfway through stage 3.
INT4_MAX = 2**31 - 1
INT4_MIN = -(2**31)
UINT32_MAX = 2**32 - 1
UNIX_SECONDS_MIN = -62_135_596_800
UNIX_SECONDS_MAX = 253_402_300_799
Int4 = Annotated[int, Field(ge=INT4_MIN, le=INT4_MAX)]
Minutes = Annotated[int, Field(ge=0, le=INT4_MAX)]


#: IGDB metadata in an enriched CSV must look the way IGDB's own data looks, because stage 3
#: writes it into the app's shared Game rows: ids are positive, covers are IGDB image ids or
#: https URLs on IGDB's image host, titles hold no control or bidi-override characters.
IMAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
COVER_URL = re.compile(
    r"https://images\.igdb\.com/igdb/image/upload/t_[a-z0-9_]{1,32}/[A-Za-z0-9_-]{1,64}"
    r"\.(?:jpg|png|webp)"
)


def _positive_id(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise ValueError("an IGDB id is a positive integer")
    return value


def _title(value: str | None) -> str | None:
    # Called for every name of every row: the C-speed search first, the message only on a find.
    if value is not None and FORBIDDEN_IN_TITLE.search(value):
        raise ValueError(f"the title {title_problem(value)}")
    return value


def _text(value: str | None) -> str | None:
    problem = text_problem(value) if value is not None else None
    if problem:
        raise ValueError(f"the text {problem}")
    return value


def _image_id(value: str | None) -> str | None:
    if value is not None and not IMAGE_ID.fullmatch(value):
        raise ValueError("an IGDB image id is 1-64 letters, digits, '_' or '-'")
    return value


def _cover_url(value: str | None) -> str | None:
    if value is not None and not COVER_URL.fullmatch(value):
        raise ValueError("a cover is an https URL on images.igdb.com")
    return value


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RawGameRow(_Row):
    """One owned app as Steam reported it (times in minutes, `rtime_last_played` in Unix s)."""

    appid: int = Field(ge=1, le=UINT32_MAX)
    name: str
    playtime_forever: Minutes = 0
    playtime_2weeks: Minutes = 0
    playtime_windows_forever: Minutes = 0
    playtime_mac_forever: Minutes = 0
    playtime_linux_forever: Minutes = 0
    playtime_deck_forever: Minutes = 0
    playtime_disconnected: Minutes = 0
    rtime_last_played: int = Field(default=0, ge=0, le=UINT32_MAX, description="0 = never played")
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
    id: Int4
    name: str
    slug: str
    checksum: str | None = None

    _valid_id = field_validator("id")(_positive_id)
    _valid_text = field_validator("name", "slug")(_title)


class PlatformRef(_Row):
    id: Int4
    name: str
    slug: str
    abbreviation: str | None = None
    alternative_name: str | None = None
    generation: Int4 | None = None
    platform_family: Int4 | None = None
    platform_type: Int4 | None = None
    checksum: str | None = None

    _valid_id = field_validator("id")(_positive_id)
    _valid_text = field_validator("name", "slug", "abbreviation", "alternative_name")(_title)


class Candidate(_Row):
    """A possible IGDB game for an unmatched app, shown in the review list."""

    igdb_id: Int4
    name: str
    year: Int4 | None = None

    _valid_id = field_validator("igdb_id")(_positive_id)
    _valid_name = field_validator("name")(_title)


class EnrichedGameRow(RawGameRow):
    """A raw row plus classification and, when matched, the IGDB metadata stage 3 writes.

    Every owned app has a row, non-games included: `kind` says what it is, `reason` which source
    decided (`steam_type=4`, `igdb_game_type=1`, `name:dedicated_server`, `keep`, …), and
    `steam_type` is Steam's store type when the store knows the app.
    """

    kind: AppKind
    classifier_rule: str
    match_status: MatchStatus
    reason: str = ""
    steam_type: Int4 | None = None
    match_method: MatchMethod = MatchMethod.NONE
    igdb_id: Int4 | None = None
    igdb_name: str | None = None
    igdb_slug: str | None = None
    igdb_summary: str | None = None
    igdb_first_release_date: int | None = Field(
        default=None, ge=UNIX_SECONDS_MIN, le=UNIX_SECONDS_MAX, description="Unix seconds"
    )
    igdb_game_type: Int4 | None = None
    igdb_franchise_id: Int4 | None = None
    igdb_cover_image_id: str | None = None
    cover_url: str | None = None
    genres: list[GenreRef] = Field(default_factory=list)
    platforms: list[PlatformRef] = Field(default_factory=list)
    candidates: list[Candidate] = Field(default_factory=list)
    enriched_at: datetime | None = None

    _valid_ids = field_validator("igdb_id", "igdb_franchise_id")(_positive_id)
    _valid_titles = field_validator("igdb_name", "igdb_slug")(_title)
    _valid_summary = field_validator("igdb_summary")(_text)
    _valid_image_id = field_validator("igdb_cover_image_id")(_image_id)
    _valid_cover_url = field_validator("cover_url")(_cover_url)


#: The EnrichedGameRow fields stage 3 never stores: the app's tables (`database.payloads`), the
#: filtered list (`state.filtered`) and the wishlist state (`database.wishlist`) take every other
#: field (the raw ones, `kind`, `classifier_rule`, `reason`, `steam_type`, `match_status` and the
#: IGDB values written), none of these.
UNSTORED_FIELDS: frozenset[str] = frozenset(
    {"match_method", "igdb_game_type", "igdb_cover_image_id", "candidates", "enriched_at"}
)


def stored_alike(row: EnrichedGameRow, other: EnrichedGameRow) -> bool:
    """Whether stage 3 would store the same for both rows (they differ in no stored field)."""
    unstored = set(UNSTORED_FIELDS)
    return type(row) is type(other) and row.model_dump(exclude=unstored) == other.model_dump(
        exclude=unstored
    )


class WishlistRow(_Row):
    """One wishlisted app as stage 1 stored it, in the raw CSV's sibling (`wishlist_key_for`).

    GetWishlist names no app: `name` is the store's (empty when the store did not say).
    `priority` is the user's own order on Steam, kept as given; `date_added` is Unix seconds.
    `owned` marks an app that is in the owned library too (already bought): stage 2 leaves it to
    its owned row, and stage 3 writes nothing for it as a wishlisted game.
    """

    appid: int = Field(ge=1, le=UINT32_MAX)
    name: str = ""
    priority: Int4 = 0
    date_added: int = Field(default=0, ge=0, le=UINT32_MAX, description="Unix seconds")
    owned: bool = False


class EnrichedWishlistRow(EnrichedGameRow):
    """A wishlisted app decided by stage 2 like an owned one (no playtimes), with its wishlist
    fields; an `owned` row carries the owned row's decision."""

    priority: Int4 = 0
    date_added: int = Field(default=0, ge=0, le=UINT32_MAX, description="Unix seconds")
    owned: bool = False
