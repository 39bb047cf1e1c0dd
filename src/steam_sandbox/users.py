"""The fixed sandbox users and their libraries, generated lazily and deterministically per user."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from steam_sandbox.catalogue import Catalogue
from steam_sandbox.models import AppTruth, OwnedGame, SandboxUser, SteamApp
from steam_sandbox.reference_data import REFERENCE_TIMESTAMP

STEAMID64_BASE: Final = 76561197960265728

# name, account id, vanity, persona, visibility, games public, library size (visible apps)
_ROSTER: Final = (
    ("small", 901_001, "sandbox_small", "Small Fry", 3, True, 25),
    ("medium", 901_002, "sandbox_medium", "Patient Gamer", 3, True, 500),
    ("large", 901_003, "sandbox_large", "Backlog Baron", 3, True, 2_000),
    ("huge", 901_004, "sandbox_huge", "Bundle Hoarder 🎮", 3, True, 20_000),
    ("private_profile", 901_005, "sandbox_private", "Hidden One", 1, False, 120),
    ("private_games", 901_006, "sandbox_private_games", "Shy Collector", 3, False, 80),
    ("empty", 901_007, "sandbox_empty", "Fresh Account", 3, True, 0),
    ("nonexistent", 901_999, None, "", 3, False, 0),
)
# Tags every non-trivial library shows at least once (when the catalogue has a visible one).
_SHOWCASE_TAGS: Final = (
    "trap_title",
    "hard_name",
    "trademark",
    "multi_entry",
    "edition_only",
    "igdb_filtered",
    "title_fallback",
    "ambiguous",
    "unmatched",
    "rerelease",
    "f2p",
    "nongame_mapped",
    "DLC",
    "SOUNDTRACK",
    "DEMO",
    "BETA",
    "TOOL",
    "SERVER",
    "MULTIPLAYER_COMPONENT",
    "VIDEO",
    "BONUS_CONTENT",
    "APPLICATION",
    "store_trap",
    "store_typed_game",
    "delisted",
    "igdb_pitfall",
    "silent_nongame",
    "silent_plain",
    "silent_game",
)
_HIDDEN_TAGS: Final = ("free_sub", "unvetted")


@dataclass(frozen=True, slots=True)
class SandboxUsers:
    """The named users; iterate for all of them, or look one up by name."""

    small: SandboxUser
    medium: SandboxUser
    large: SandboxUser
    huge: SandboxUser
    private_profile: SandboxUser
    private_games: SandboxUser
    empty: SandboxUser
    nonexistent: SandboxUser

    def __iter__(self) -> Iterator[SandboxUser]:
        return iter(
            (
                self.small,
                self.medium,
                self.large,
                self.huge,
                self.private_profile,
                self.private_games,
                self.empty,
                self.nonexistent,
            )
        )

    def by_name(self, name: str) -> SandboxUser:
        """The user called ``name`` (KeyError when there is none)."""
        for user in self:
            if user.name == name:
                return user
        raise KeyError(name)


def build_users(*, with_pagination_app: bool = False) -> SandboxUsers:
    """The fixed roster (ids and vanity names never depend on the seed).

    With the catalogue's pagination app enabled, ``small`` owns it too (one more game).
    """
    users = []
    for name, account, vanity, persona, visibility, games_public, listed in _ROSTER:
        exists = name != "nonexistent"
        size = listed + 1 if with_pagination_app and name == "small" else listed
        expected = size if games_public and visibility == 3 else 0
        users.append(
            SandboxUser(
                name=name,
                steamid64=str(STEAMID64_BASE + account),
                vanity=vanity,
                persona_name=persona,
                visibility=visibility,
                exists=exists,
                games_public=games_public,
                library_size=size if exists else 0,
                expected_game_count=expected,
            )
        )
    return SandboxUsers(*users)


class Libraries:
    """Builds each user's owned games on first use and keeps them (thread-safe)."""

    def __init__(self, catalogue: Catalogue, users: SandboxUsers) -> None:
        self._catalogue = catalogue
        self._users = {u.steamid64: u for u in users if u.exists}
        self._vanity = {u.vanity.casefold(): u for u in users if u.exists and u.vanity}
        self._cache: dict[str, tuple[OwnedGame, ...]] = {}
        self._lock = threading.Lock()

    def user(self, steamid64: str) -> SandboxUser | None:
        """The existing user with this id, if any."""
        return self._users.get(steamid64)

    def resolve_vanity(self, vanity: str) -> SandboxUser | None:
        """The existing user with this custom URL (case-insensitive), if any."""
        return self._vanity.get(vanity.casefold())

    def library(self, user: SandboxUser) -> tuple[OwnedGame, ...]:
        """Every app the user owns, ascending by app id (hidden ones included)."""
        with self._lock:
            cached = self._cache.get(user.steamid64)
            if cached is None:
                cached = self._generate(user)
                self._cache[user.steamid64] = cached
            return cached

    def add(self, user: SandboxUser, appids: Iterable[int]) -> None:
        """Register one more public user who owns `appids` of the catalogue (benchmarks)."""
        rng = random.Random(f"{self._catalogue.config.seed}:{user.name}")  # noqa: S311
        owned = tuple(_owned(rng, self._catalogue.apps[appid]) for appid in sorted(set(appids)))
        with self._lock:
            self._users[user.steamid64] = user
            self._cache[user.steamid64] = owned

    def ground_truth(self, user: SandboxUser) -> list[AppTruth]:
        """Truth for the apps a default stage-1 fetch returns for this user."""
        if user.expected_game_count == 0:
            return []
        return [g.app.truth for g in self.library(user) if _visible_by_default(g.app)]

    def _generate(self, user: SandboxUser) -> tuple[OwnedGame, ...]:
        size = user.library_size
        if size == 0:
            return ()
        catalogue = self._catalogue
        rng = random.Random(f"{catalogue.config.seed}:{user.name}")  # noqa: S311
        chosen: dict[int, SteamApp] = {}
        if user.name == "small" and catalogue.pagination_appid is not None:
            chosen[catalogue.pagination_appid] = catalogue.apps[catalogue.pagination_appid]
        for tag in _SHOWCASE_TAGS:
            pool = [
                a for a in catalogue.pools.get(tag, ()) if _visible_by_default(catalogue.apps[a])
            ]
            if pool and len(chosen) < size:
                app = catalogue.apps[rng.choice(pool)]
                chosen[app.appid] = app
        visible = [a for a in catalogue.apps.values() if _visible_by_default(a)]
        remaining = [a for a in visible if a.appid not in chosen]
        for app in rng.sample(remaining, min(size - len(chosen), len(remaining))):
            chosen[app.appid] = app
        for tag in _HIDDEN_TAGS:
            pool = catalogue.pools.get(tag, [])
            for appid in rng.sample(pool, min(len(pool), max(1, size // 100))):
                chosen[appid] = catalogue.apps[appid]
        return tuple(_owned(rng, chosen[appid]) for appid in sorted(chosen))


def _visible_by_default(app: SteamApp) -> bool:
    """Listed with include_played_free_games=1, skip_unvetted_apps default, no free sub."""
    return not app.free_sub and not app.unvetted


def _owned(rng: random.Random, app: SteamApp) -> OwnedGame:
    played = app.free_to_play or rng.random() < 0.6
    if not played:
        return OwnedGame(app, 0, 0, 0, 0, 0, 0, 0, 0)
    total = int(rng.paretovariate(1.2) * 30) if rng.random() < 0.97 else rng.randint(1, 5)
    total = min(total, 250_000)
    disconnected = rng.randint(0, total // 20) if rng.random() < 0.1 else 0
    rest = total - disconnected
    mac = rng.randint(0, rest // 3) if rng.random() < 0.1 else 0
    linux = rng.randint(0, (rest - mac) // 2) if rng.random() < 0.15 else 0
    windows = rest - mac - linux
    deck = rng.randint(0, linux) if linux and rng.random() < 0.5 else 0
    two_weeks = rng.randint(1, min(total, 1200)) if rng.random() < 0.06 else 0
    last = 0 if rng.random() < 0.03 else REFERENCE_TIMESTAMP - rng.randint(0, 400_000_000)
    return OwnedGame(app, total, two_weeks, windows, mac, linux, deck, disconnected, last)
