"""Twitch token and IGDB v4 payloads, as far as the pipeline reads them (unknown fields ignored)."""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lambdas.models.text import clean_text, clean_title

COVER_URL = "https://images.igdb.com/igdb/image/upload/t_cover_big/{image_id}.jpg"


class GameType(IntEnum):
    """IGDB `game_types` ids (they mirror the retired `category` enum)."""

    MAIN_GAME = 0
    DLC_ADDON = 1
    EXPANSION = 2
    BUNDLE = 3
    STANDALONE_EXPANSION = 4
    MOD = 5
    EPISODE = 6
    SEASON = 7
    REMAKE = 8
    REMASTER = 9
    EXPANDED_GAME = 10
    PORT = 11
    FORK = 12
    PACK = 13
    UPDATE = 14


class _IgdbPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# IGDB's text is cleaned here, where it enters, so no writer meets a lone surrogate (not UTF-8),
# a NUL (not storable) or a bidi override (a title that reads as something else).
def _title(value: Any) -> Any:
    return clean_title(value) if isinstance(value, str) else value


def _text(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


_IMAGE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class TwitchToken(_IgdbPayload):
    access_token: str = Field(min_length=1)
    expires_in: int = Field(ge=0)
    token_type: str = "bearer"  # noqa: S105 - a token kind, not a secret


class IgdbGenre(_IgdbPayload):
    id: int
    name: str | None = None
    slug: str | None = None
    checksum: str | None = None

    _clean = field_validator("name", "slug", "checksum", mode="before")(_title)


class IgdbPlatform(_IgdbPayload):
    id: int
    name: str | None = None
    slug: str | None = None
    abbreviation: str | None = None
    alternative_name: str | None = None
    generation: int | None = None
    platform_family: int | None = None
    platform_type: int | None = None
    checksum: str | None = None

    _clean = field_validator(
        "name", "slug", "abbreviation", "alternative_name", "checksum", mode="before"
    )(_title)

    @field_validator("platform_family", "platform_type", mode="before")
    @classmethod
    def _reference_id(cls, value: Any) -> Any:
        """Accept an expanded reference object as well as its id."""
        return value.get("id") if isinstance(value, dict) else value


class IgdbCover(_IgdbPayload):
    id: int
    image_id: str | None = None

    @field_validator("image_id")
    @classmethod
    def _plain_image_id(cls, value: str | None) -> str | None:
        """An image id goes into a URL: anything but IGDB's plain ids means no cover."""
        return value if value is not None and _IMAGE_ID.fullmatch(value) else None


def _ids(value: Any) -> Any:
    """Reference lists come back as ids, or as objects when expanded."""
    if isinstance(value, list):
        return [item.get("id") if isinstance(item, dict) else item for item in value]
    return value


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


class IgdbGame(_IgdbPayload):
    id: int
    name: str = ""
    slug: str | None = None
    summary: str | None = None
    first_release_date: int | None = None
    cover: IgdbCover | None = None
    genres: list[IgdbGenre] = Field(default_factory=list)
    platforms: list[IgdbPlatform] = Field(default_factory=list)
    franchise: int | None = None
    franchises: list[int] = Field(default_factory=list)
    game_type: int | None = None
    version_parent: int | None = None
    parent_game: int | None = None

    _clean_titles = field_validator("name", "slug", mode="before")(_title)
    _clean_summary = field_validator("summary", mode="before")(_text)
    _as_ids = field_validator("franchises", mode="before")(_ids)
    _as_id = field_validator(
        "franchise", "game_type", "version_parent", "parent_game", mode="before"
    )(_id)

    @field_validator("cover", mode="before")
    @classmethod
    def _cover_object(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, int) else value

    @field_validator("genres", "platforms", mode="before")
    @classmethod
    def _reference_objects(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"id": item} if isinstance(item, int) else item for item in value]
        return value

    @property
    def cover_url(self) -> str | None:
        if self.cover is None or not self.cover.image_id:
            return None
        return COVER_URL.format(image_id=self.cover.image_id)

    @property
    def release_year(self) -> int | None:
        if self.first_release_date is None:
            return None
        from datetime import UTC, datetime

        return datetime.fromtimestamp(self.first_release_date, UTC).year

    @property
    def main_franchise(self) -> int | None:
        return self.franchise if self.franchise is not None else next(iter(self.franchises), None)


class ExternalGame(_IgdbPayload):
    id: int
    uid: str | None = None
    game: IgdbGame | None = None

    @field_validator("game", mode="before")
    @classmethod
    def _game_object(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, int) else value


class MultiqueryResult(_IgdbPayload):
    name: str
    result: list[dict[str, Any]] | None = None
    count: int | None = None
