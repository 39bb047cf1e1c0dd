"""Steam store payloads: `IStoreBrowseService/GetItems/v1` items and the store's app types."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from pydantic import BaseModel, ConfigDict, Field


class StoreAppType(IntEnum):
    """EStoreAppType: what the Steam store says an app is (0 game is omitted from JSON)."""

    GAME = 0
    DEMO = 1
    MOD = 2
    MOVIE = 3
    DLC = 4
    GUIDE = 5
    SOFTWARE = 6
    VIDEO = 7
    SERIES = 8
    EPISODE = 9
    HARDWARE = 10
    MUSIC = 11
    BETA = 12
    TOOL = 13
    ADVERTISING = 14


class _Upstream(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RelatedItems(_Upstream):
    parent_appid: int | None = None


class StoreItem(_Upstream):
    """One GetItems answer. `type` is absent at its default, 0 (game), on a successful item."""

    item_type: int | None = None
    id: int | None = None
    appid: int | None = None
    success: int = 0
    visible: bool | None = None
    name: str | None = field(default=None, compare=False)
    type: int = 0
    related_items: RelatedItems | None = None

    @property
    def app_id(self) -> int | None:
        return self.appid if self.appid is not None else self.id


class StoreItemsBody(_Upstream):
    store_items: list[StoreItem] = Field(default_factory=list)


class StoreItemsResponse(_Upstream):
    response: StoreItemsBody = Field(default_factory=StoreItemsBody)


@dataclass(frozen=True, slots=True)
class StoreType:
    """Steam's verdict on one app: its type, or None when the store does not know it (an item
    whose `success` is not 1: removed, unknown or hidden in the region) — never "game"."""

    app_id: int
    app_type: int | None
    parent_appid: int | None = None
    #: The store's name of the app when this answer came from the store (never cached).
    name: str | None = field(default=None, compare=False)

    @property
    def known(self) -> bool:
        return self.app_type is not None
