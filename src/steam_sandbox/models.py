"""Plain data types shared by the sandbox's generator, users and HTTP routes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lambdas.models.rows import AppKind, MatchStatus

__all__ = [
    "AppKind",
    "AppTruth",
    "MatchSource",
    "MatchStatus",
    "OwnedGame",
    "SandboxUser",
    "SteamApp",
]


class MatchSource(StrEnum):
    """How a MATCHED app is expected to be matched."""

    EXTERNAL_GAMES = "external_games"
    TITLE = "title"


@dataclass(frozen=True, slots=True)
class AppTruth:
    """Ground truth for one Steam app.

    ``kind`` is the app's nature by name; ``status`` includes IGDB's ``game_type`` override
    (an app whose IGDB entry is a DLC, bundle, pack, update or mod is FILTERED).
    ``igdb_id`` is the IGDB game to link when MATCHED, or the IGDB entry a FILTERED app reaches
    through ``external_games`` (None when it reaches none). ``status`` assumes the careful title
    fallback is enabled: apps with ``match_source == TITLE`` are UNMATCHED without it.
    ``candidates`` lists the IGDB games an ambiguous title equals.
    """

    appid: int
    name: str
    kind: AppKind
    status: MatchStatus
    igdb_id: int | None
    match_source: MatchSource | None = None
    candidates: tuple[int, ...] = ()
    mapped_igdb_ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SteamApp:
    """One Steam app in the generated store, with the properties GetOwnedGames reveals."""

    appid: int
    name: str
    truth: AppTruth
    icon_hash: str
    free_to_play: bool = False
    free_sub: bool = False
    unvetted: bool = False
    has_stats: bool = False
    has_workshop: bool = False
    has_market: bool = False
    has_dlc: bool = False
    has_leaderboards: bool = False
    content_descriptors: tuple[int, ...] = ()
    store_type: int | None = 0
    """EStoreAppType the store gives the app; None for a delisted app (no store item)."""
    parent_appid: int | None = None
    store_free: bool = False
    """The store item's `is_free`."""
    store_tags: tuple[int, ...] = ()
    """User tag ids, heaviest first (GetItems `tags` with `include_tag_count`)."""
    store_players: tuple[int, ...] = ()
    """Supported-player category ids (single-player 2, multi-player 1, co-op 9)."""
    store_features: tuple[int, ...] = ()
    """Feature category ids (game demo 10, downloadable content 21, achievements 22…)."""


@dataclass(frozen=True, slots=True)
class OwnedGame:
    """One entry of a user's library: an app plus the user's playtimes."""

    app: SteamApp
    playtime_forever: int
    playtime_2weeks: int
    playtime_windows: int
    playtime_mac: int
    playtime_linux: int
    playtime_deck: int
    playtime_disconnected: int
    rtime_last_played: int


@dataclass(frozen=True, slots=True)
class SandboxUser:
    """A named sandbox user: ids, profile visibility and what its library should yield."""

    name: str
    steamid64: str
    vanity: str | None
    persona_name: str
    visibility: int
    exists: bool
    games_public: bool
    library_size: int
    expected_game_count: int

    @property
    def accountid(self) -> int:
        """The 32-bit account id packed in the SteamID64."""
        return int(self.steamid64) & 0xFFFFFFFF

    @property
    def profile_url(self) -> str:
        """The community profile URL Steam reports for this user."""
        if self.vanity:
            return f"https://steamcommunity.com/id/{self.vanity}/"
        return f"https://steamcommunity.com/profiles/{self.steamid64}/"
