"""The shared app cache stage 2 reads and fills: Steam store types and IGDB answers per app id.

What Steam and IGDB say about an app does not depend on who owns it, so one store serves every
user (`lambdas.state.app_cache` keeps it in the database; `NO_APP_CACHE` keeps nothing).
Stage 2 reads and fills it through this protocol; the database package implements it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from lambdas.models.igdb import IgdbGame
from lambdas.models.steam_store import StoreType


@dataclass(frozen=True, slots=True)
class IgdbAnswer:
    """What IGDB said about one Steam app: every entry its uid maps to, and the games whose
    exact title equals one of `title_name`'s variants (None: titles were not asked)."""

    games: tuple[IgdbGame, ...] = ()
    title_name: str | None = None
    title_games: tuple[IgdbGame, ...] | None = None

    def titles_for(self, name: str) -> tuple[IgdbGame, ...] | None:
        """The title answer, when it was asked for this very name."""
        return self.title_games if self.title_name == name else None


class AppCache(Protocol):
    """A store of per-app answers shared by every user; reads return only fresh entries."""

    def get_types(self, app_ids: Sequence[int], *, fresh_since: datetime) -> dict[int, StoreType]:
        """Store types checked at or after `fresh_since`."""
        ...

    def put_types(self, types: Iterable[StoreType], *, now: datetime) -> None: ...

    def get_igdb(
        self,
        app_ids: Sequence[int],
        *,
        now: datetime,
        positive_ttl: timedelta,
        negative_ttl: timedelta,
    ) -> dict[int, IgdbAnswer]:
        """IGDB answers younger than `positive_ttl` (some entry found) or `negative_ttl` (none)."""
        ...

    def put_igdb(self, answers: Mapping[int, IgdbAnswer], *, now: datetime) -> None: ...


class _NoAppCache:
    """Remembers nothing: every run asks Steam and IGDB (the process cache still applies)."""

    def get_types(self, app_ids: Sequence[int], *, fresh_since: datetime) -> dict[int, StoreType]:
        return {}

    def put_types(self, types: Iterable[StoreType], *, now: datetime) -> None:
        return None

    def get_igdb(
        self,
        app_ids: Sequence[int],
        *,
        now: datetime,
        positive_ttl: timedelta,
        negative_ttl: timedelta,
    ) -> dict[int, IgdbAnswer]:
        return {}

    def put_igdb(self, answers: Mapping[int, IgdbAnswer], *, now: datetime) -> None:
        return None


NO_APP_CACHE: Final[AppCache] = _NoAppCache()
