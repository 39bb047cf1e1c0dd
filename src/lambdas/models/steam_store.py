"""Steam store payloads: `IStoreBrowseService/GetItems/v1` items and the store's app types."""

from __future__ import annotations

from dataclasses import dataclass
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


class StoreTag(_Upstream):
    """One of the item's top user tags (`include_tag_count`), heaviest first."""

    tagid: int
    weight: int = 0


class StoreCategories(_Upstream):
    """The store's category ids of an item (sent without a flag): who plays it, its features."""

    supported_player_categoryids: list[int] = Field(default_factory=list)
    feature_categoryids: list[int] = Field(default_factory=list)
    controller_categoryids: list[int] = Field(default_factory=list)


class StoreItem(_Upstream):
    """One GetItems answer. `type` is absent at its default, 0 (game), on a successful item."""

    item_type: int | None = None
    id: int | None = None
    appid: int | None = None
    success: int = 0
    visible: bool | None = None
    name: str | None = None
    type: int = 0
    related_items: RelatedItems | None = None
    is_free: bool = False
    tags: list[StoreTag] = Field(default_factory=list)
    tagids: list[int] = Field(default_factory=list)
    categories: StoreCategories | None = None

    @property
    def app_id(self) -> int | None:
        return self.appid if self.appid is not None else self.id


class StoreItemsBody(_Upstream):
    store_items: list[StoreItem] = Field(default_factory=list)


class StoreItemsResponse(_Upstream):
    response: StoreItemsBody = Field(default_factory=StoreItemsBody)


@dataclass(frozen=True, slots=True)
class StoreDetails:
    """What else the store item says about an app, kept for the apps both authorities leave
    undecided: whether it is free, its top user tags (heaviest first) and its category ids
    (`players`: the supported-player categories; `features`: feature and controller ones)."""

    is_free: bool = False
    tags: tuple[int, ...] = ()
    players: tuple[int, ...] = ()
    features: tuple[int, ...] = ()

    @classmethod
    def of(cls, item: StoreItem) -> StoreDetails:
        tags = [tag.tagid for tag in sorted(item.tags, key=lambda tag: -tag.weight)]
        categories = item.categories or StoreCategories()
        return cls(
            is_free=item.is_free,
            tags=tuple(dict.fromkeys([*tags, *item.tagids])),
            players=tuple(categories.supported_player_categoryids),
            features=tuple([*categories.feature_categoryids, *categories.controller_categoryids]),
        )


@dataclass(frozen=True, slots=True)
class StoreType:
    """Steam's verdict on one app: its type, or None when the store does not know it (an item
    whose `success` is not 1: removed, unknown or hidden in the region) — never "game"."""

    app_id: int
    app_type: int | None
    parent_appid: int | None = None
    details: StoreDetails | None = None
    """The item's own data from the same GetItems answer; None when it was not read (a cache
    row written before it was kept, or a store that is not asked)."""

    @property
    def known(self) -> bool:
        return self.app_type is not None
