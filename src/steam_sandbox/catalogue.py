"""Generates the deterministic Steam store + IGDB catalogue and the ground truth linking them."""

from __future__ import annotations

import functools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Final

from steam_sandbox.igdb_records import IgdbRecordFactory, Row
from steam_sandbox.models import AppKind, AppTruth, MatchSource, MatchStatus, SteamApp
from steam_sandbox.names import EDITION_LABELS, TRAP_TITLES, NameFactory
from steam_sandbox.store_types import assign_store_types

_CHILD_KINDS: Final = (
    (AppKind.DLC, 42),
    (AppKind.SOUNDTRACK, 17),
    (AppKind.DEMO, 10),
    (AppKind.BETA, 6),
    (AppKind.TOOL, 5),
    (AppKind.SERVER, 4),
    (AppKind.MULTIPLAYER_COMPONENT, 2),
    (AppKind.VIDEO, 3),
    (AppKind.BONUS_CONTENT, 7),
)
# Share of game apps per mapping category: ~85 % mapped, ~4 % of mapped with several entries.
_GAME_CATEGORIES: Final = (
    ("mapped", 0.85 * 0.915),
    ("multi_entry", 0.85 * 0.04),
    ("edition_only", 0.85 * 0.015),
    ("igdb_filtered", 0.85 * 0.03),
    ("title_fallback", 0.15 * 0.12),
    ("ambiguous", 0.15 * 0.06),
    ("unmatched", 0.15 * 0.82),
)
_STILL_GAME_TYPES: Final = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 9, 4, 10, 11)
_FILTERED_TYPES: Final = (1, 3, 13, 14, 5)


@dataclass(frozen=True, slots=True)
class CatalogueConfig:
    """Size and options of the generated world; equal configs generate equal worlds."""

    seed: int = 42
    game_apps: int = 17_000
    igdb_only_games: int = 1_500
    child_probability: float = 0.29
    application_probability: float = 0.015
    pagination_rows: int = 0
    """When > 0, one extra app's uid maps to this many external_games rows (off by default)."""


@dataclass(slots=True)
class Catalogue:
    """The generated world: Steam apps by id, IGDB rows per endpoint and tagged app pools."""

    config: CatalogueConfig
    apps: dict[int, SteamApp]
    tables: dict[str, list[Row]]
    pools: dict[str, list[int]] = field(default_factory=dict)
    pagination_appid: int | None = None

    def truth(self, appid: int) -> AppTruth:
        """Ground truth of one app."""
        return self.apps[appid].truth


def generate_catalogue(config: CatalogueConfig | None = None) -> Catalogue:
    """Generate the whole catalogue for ``config`` (deterministic for its seed)."""
    return _Builder(config or CatalogueConfig()).build()


@functools.lru_cache(maxsize=4)
def shared_catalogue(config: CatalogueConfig) -> Catalogue:
    """One catalogue per config per process, shared read-only by every sandbox built from it."""
    return generate_catalogue(config)


class _Builder:
    def __init__(self, config: CatalogueConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)  # noqa: S311 - reproducible data, not security
        self.names = NameFactory(self.rng)
        self.igdb = IgdbRecordFactory(self.rng)
        self.apps: dict[int, SteamApp] = {}
        self.pools: dict[str, list[int]] = defaultdict(list)
        self.appid = 0
        self.mains: list[Row] = []
        self.franchises: list[Row] = []
        self.parents: dict[int, int] = {}
        self.base_appid: int | None = None

    def build(self) -> Catalogue:
        rng = self.rng
        self.franchises = [self.igdb.add_franchise(self.names.title()) for _ in range(250)]
        categories = [c for c, _ in _GAME_CATEGORIES]
        weights = [w for _, w in _GAME_CATEGORIES]
        for index in range(self.config.game_apps):
            trap = TRAP_TITLES[index] if index < len(TRAP_TITLES) else None
            category = "mapped" if trap else rng.choices(categories, weights)[0]
            base_name, base_igdb = self._game_app(category, trap)
            while rng.random() < self.config.child_probability:
                self._child_app(base_name, base_igdb)
            if rng.random() < self.config.application_probability:
                self._child_app(base_name, None, AppKind.APPLICATION)
        for _ in range(self.config.igdb_only_games):
            game = self.igdb.add_game(self.names.title(), on_pc=rng.random() < 0.3)
            self._maybe_franchise(game)
            if rng.random() < 0.2:
                self.igdb.link_gog(game)
        self._gog_traps()
        pagination = self._pagination_app() if self.config.pagination_rows > 0 else None
        assign_store_types(
            seed=self.config.seed,
            apps=self.apps,
            parents=self.parents,
            igdb=self.igdb,
            names=self.names,
            next_appid=self._next_appid,
        )
        for app in self.apps.values():
            for tag in (*app.truth.tags, app.truth.kind.value, app.truth.status.value):
                self.pools[tag].append(app.appid)
        return Catalogue(self.config, self.apps, self.igdb.tables(), dict(self.pools), pagination)

    # -- game apps ---------------------------------------------------------------------------

    def _game_app(self, category: str, trap: str | None) -> tuple[str, int | None]:
        """Create one game app of ``category``; returns its Steam name and IGDB main id."""
        rng, names, igdb = self.rng, self.names, self.igdb
        hard = trap is None and rng.random() < 0.03
        if trap is not None:
            names.claim(trap)
            title = trap
        else:
            title = names.hard_title() if hard else names.title()
        tags: list[str] = ["trap_title"] if trap else []
        if hard:
            tags.append("hard_name")
        appid = self._next_appid()
        self.base_appid = appid
        if category == "mapped":
            game = igdb.add_game(title, rng.choice(_STILL_GAME_TYPES))
            self._register_main(game)
            steam_name = title
            if not hard and rng.random() < 0.03:
                steam_name = f"{title}{rng.choice(('™', '®'))}"
                tags.append("trademark")
            igdb.link_steam(game, appid, steam_name)
            self._app(
                appid,
                steam_name,
                AppKind.GAME,
                MatchStatus.MATCHED,
                game["id"],
                tags,
                source=MatchSource.EXTERNAL_GAMES,
                mapped=(game["id"],),
            )
            if rng.random() < 0.01:
                self._rerelease(game, steam_name)
            return steam_name, game["id"]
        if category == "multi_entry":
            game = igdb.add_game(title)
            self._register_main(game)
            mapped = [game["id"], *self._extra_entries(game, rng.randrange(3))]
            for gid in mapped:
                igdb.link_steam(igdb.games[gid], appid, title)
            self._app(
                appid,
                title,
                AppKind.GAME,
                MatchStatus.MATCHED,
                game["id"],
                [*tags, "multi_entry"],
                source=MatchSource.EXTERNAL_GAMES,
                mapped=tuple(mapped),
            )
            return title, game["id"]
        if category == "edition_only":
            game = igdb.add_game(title)
            self._register_main(game)
            label = rng.choice(EDITION_LABELS)
            steam_name = f"{title}: {label}"
            names.claim(steam_name)
            edition = igdb.add_game(steam_name, version_parent=game["id"], version_title=label)
            igdb.link_steam(edition, appid, steam_name)
            self._app(
                appid,
                steam_name,
                AppKind.GAME,
                MatchStatus.MATCHED,
                edition["id"],
                [*tags, "edition_only"],
                source=MatchSource.EXTERNAL_GAMES,
                mapped=(edition["id"],),
            )
            return steam_name, game["id"]
        if category == "igdb_filtered":
            game_type = rng.choice(_FILTERED_TYPES)
            parent = rng.choice(self.mains)["id"] if self.mains and game_type != 3 else None
            entry = igdb.add_game(title, game_type, parent_game=parent)
            if parent is not None and game_type == 1:
                igdb.link_reverse(parent, "dlcs", entry["id"])
            igdb.link_steam(entry, appid, title)
            self._app(
                appid,
                title,
                AppKind.GAME,
                MatchStatus.FILTERED,
                entry["id"],
                [*tags, "igdb_filtered"],
                mapped=(entry["id"],),
            )
            return title, None
        if category == "title_fallback":
            game = igdb.add_game(title)
            self._register_main(game)
            if rng.random() < 0.5:
                igdb.link_gog(game)
            self._app(
                appid,
                title,
                AppKind.GAME,
                MatchStatus.MATCHED,
                game["id"],
                [*tags, "title_fallback"],
                source=MatchSource.TITLE,
            )
            return title, game["id"]
        if category == "ambiguous":
            years = rng.sample(range(1996, 2023), rng.choice((2, 2, 3)))
            group = [
                igdb.add_game(title, rng.choice((0, 0, 8)), release_date=igdb.release_date(y))
                for y in years
            ]
            self._app(
                appid,
                title,
                AppKind.GAME,
                MatchStatus.UNMATCHED,
                None,
                [*tags, "ambiguous"],
                candidates=tuple(g["id"] for g in group),
            )
            return title, None
        self._app(appid, title, AppKind.GAME, MatchStatus.UNMATCHED, None, [*tags, "unmatched"])
        return title, None

    def _extra_entries(self, game: Row, variant: int) -> list[int]:
        """Edition and/or bundle entries sharing a uid with ``game`` (at most two extra)."""
        rng, igdb = self.rng, self.igdb
        extra: list[int] = []
        if variant in (0, 2):
            label = rng.choice(EDITION_LABELS)
            name = f"{game['name']}: {label}"
            self.names.claim(name)
            extra.append(igdb.add_game(name, version_parent=game["id"], version_title=label)["id"])
        if variant in (1, 2):
            other = rng.choice(self.mains)["name"]
            name = f"{game['name']} + {other} Bundle"
            self.names.claim(name)
            bundle = igdb.add_game(name, 3)
            igdb.link_reverse(game["id"], "bundles", bundle["id"])
            extra.append(bundle["id"])
        return extra

    def _rerelease(self, game: Row, base_name: str) -> None:
        name = f"{base_name} Classic"
        if not self.names.claim(name):
            return
        appid = self._next_appid()
        self.igdb.link_steam(game, appid, name)
        self._app(
            appid,
            name,
            AppKind.GAME,
            MatchStatus.MATCHED,
            game["id"],
            ["rerelease"],
            source=MatchSource.EXTERNAL_GAMES,
            mapped=(game["id"],),
        )

    # -- non-game apps -----------------------------------------------------------------------

    def _child_app(self, base: str, base_igdb: int | None, kind: AppKind | None = None) -> None:
        rng = self.rng
        if kind is None:
            kind = rng.choices([k for k, _ in _CHILD_KINDS], [w for _, w in _CHILD_KINDS])[0]
        name = self.names.non_game(kind, base)
        appid = self._next_appid()
        if self.base_appid is not None and kind is not AppKind.APPLICATION:
            self.parents[appid] = self.base_appid
        mapped_share = {AppKind.DLC: 0.4, AppKind.SOUNDTRACK: 0.1}.get(kind, 0.0)
        if rng.random() < mapped_share:
            game_type = 1 if rng.random() < 0.7 else 13
            entry = self.igdb.add_game(name, game_type, parent_game=base_igdb, with_cover=0.7)
            if base_igdb is not None and game_type == 1:
                self.igdb.link_reverse(base_igdb, "dlcs", entry["id"])
            self.igdb.link_steam(entry, appid, name)
            self._app(
                appid,
                name,
                kind,
                MatchStatus.FILTERED,
                entry["id"],
                ["nongame_mapped"],
                mapped=(entry["id"],),
            )
        else:
            self._app(appid, name, kind, MatchStatus.FILTERED, None, [])

    # -- specials ----------------------------------------------------------------------------

    def _gog_traps(self) -> None:
        """GOG rows whose uid equals a Steam app id: a query without the source filter is wrong."""
        steam_ids = [a.appid for a in self.apps.values() if a.truth.status is MatchStatus.MATCHED]
        for appid in self.rng.sample(steam_ids, min(10, len(steam_ids))):
            self.igdb.link_gog(self.rng.choice(self.mains), uid=str(appid))

    def _pagination_app(self) -> int:
        title = self.names.title()
        appid = self._next_appid()
        game = self.igdb.add_game(title)
        self.igdb.link_steam(game, appid, title)
        mapped = [game["id"]]
        for n in range(2, self.config.pagination_rows + 1):
            variant = self.igdb.add_game(
                f"{title} Variant {n}", version_parent=game["id"], version_title=f"Variant {n}"
            )
            self.igdb.link_steam(variant, appid, title)
            mapped.append(variant["id"])
        self._app(
            appid,
            title,
            AppKind.GAME,
            MatchStatus.MATCHED,
            game["id"],
            ["pagination"],
            source=MatchSource.EXTERNAL_GAMES,
            mapped=tuple(mapped),
            visible_pool=False,
        )
        return appid

    # -- helpers -----------------------------------------------------------------------------

    def _register_main(self, game: Row) -> None:
        self.mains.append(game)
        self._maybe_franchise(game)

    def _maybe_franchise(self, game: Row) -> None:
        if self.rng.random() < 0.25:
            extra = self.rng.choice(self.franchises) if self.rng.random() < 0.2 else None
            main = self.rng.choice(self.franchises)
            self.igdb.join_franchise(game, main, extra if extra is not main else None)

    def _next_appid(self) -> int:
        self.appid += 10 * self.rng.randint(1, 8)
        return self.appid

    def _app(
        self,
        appid: int,
        name: str,
        kind: AppKind,
        status: MatchStatus,
        igdb_id: int | None,
        tags: list[str],
        *,
        source: MatchSource | None = None,
        candidates: tuple[int, ...] = (),
        mapped: tuple[int, ...] = (),
        visible_pool: bool = True,
    ) -> None:
        rng = self.rng
        is_game = kind is AppKind.GAME
        free_sub = visible_pool and rng.random() < (
            0.15 if kind in (AppKind.DEMO, AppKind.BETA, AppKind.TOOL, AppKind.SERVER) else 0.01
        )
        unvetted = visible_pool and rng.random() < 0.01
        free_to_play = visible_pool and is_game and rng.random() < 0.06
        all_tags = list(tags)
        for flag, label in ((free_sub, "free_sub"), (unvetted, "unvetted"), (free_to_play, "f2p")):
            if flag:
                all_tags.append(label)
        truth = AppTruth(
            appid, name, kind, status, igdb_id, source, candidates, mapped, tuple(all_tags)
        )
        descriptors: tuple[int, ...] = ()
        if is_game and rng.random() < 0.08:
            descriptors = tuple(sorted(rng.sample((1, 2, 3, 4, 5), rng.randint(1, 2))))
        extras: dict[str, Any] = {}
        if is_game:
            extras = {
                "has_stats": rng.random() < 0.6,
                "has_workshop": rng.random() < 0.15,
                "has_market": rng.random() < 0.08,
                "has_dlc": rng.random() < 0.3,
                "has_leaderboards": rng.random() < 0.2,
            }
        icon = "" if rng.random() < 0.02 else f"{rng.getrandbits(160):040x}"
        self.apps[appid] = SteamApp(
            appid,
            name,
            truth,
            icon,
            free_to_play=free_to_play,
            free_sub=free_sub,
            unvetted=unvetted,
            content_descriptors=descriptors,
            **extras,
        )
