"""Steam store types for the generated catalogue (what GetItems serves), with the store's quirks.

Every app gets the EStoreAppType the store would give it, consistent with its nature: 0 for
games, 4 for DLC (and for art books and multiplayer components, which the store sells as DLC),
11 or 4 for soundtracks, 1 for demos, 12 for betas, 13 for tools and servers, 7 for videos, 6 for
software; apps IGDB files as DLC, bundles, packs or updates are DLC (4) on the store too, mods 2.
Demos, soundtracks and DLC carry their base game as `parent_appid`. The quirks:

- store-typed-game playtests and servers: some "… Playtest" and "… Dedicated Server" apps are
  typed 0, as on the real store (their exact name suffix is the only evidence left);
- delisted apps: a few apps of every kind have no store item (`success` 2, no type);
- IGDB pitfalls: a few demos and soundtracks whose Steam uid IGDB files under the main game;
- store traps: real-looking games whose names trip name rules ("Alpha & Beta", "The Editor").

Everything here draws from its own RNG after the rest of the world is built, so adding store
types changed no earlier app, name or IGDB row.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from typing import Final

from steam_sandbox.igdb_records import IgdbRecordFactory
from steam_sandbox.models import AppKind, AppTruth, MatchSource, MatchStatus, SteamApp

_KIND_TYPE: Final[dict[AppKind, int]] = {
    AppKind.GAME: 0,
    AppKind.DLC: 4,
    AppKind.SOUNDTRACK: 11,
    AppKind.DEMO: 1,
    AppKind.BETA: 12,
    AppKind.TOOL: 13,
    AppKind.SERVER: 13,
    AppKind.MULTIPLAYER_COMPONENT: 4,
    AppKind.VIDEO: 7,
    AppKind.BONUS_CONTENT: 4,
    AppKind.APPLICATION: 6,
}
_IGDB_FILTERED_TYPE: Final = {1: 4, 3: 4, 13: 4, 14: 4, 5: 2}
#: Game titles that name rules file as non-games, though the store types them 0 (game).
STORE_TRAP_TITLES: Final = (
    "Alpha & Beta",
    "The Editor",
    "Virtual Pool 4 Multiplayer",
    "Sinless + OST",
    "Blood II: The Chosen + Expansion",
    "Kingdom Builder Beta",
    "Sound Forge Soundtrack",
)
_DELISTED_SHARE: Final = 0.006
_PITFALL_SHARE: Final = 0.05
_TYPED_GAME_SHARE: Final = 0.5


def _typed_as_game(kind: AppKind, name: str) -> bool:
    """A playtest or dedicated server the store may list as a game."""
    return (kind is AppKind.BETA and name.endswith("Playtest")) or (
        kind is AppKind.SERVER and name.endswith("Dedicated Server")
    )


def _pitfall_target(apps: dict[int, SteamApp], truth: AppTruth, parent: int | None) -> int | None:
    """The main game IGDB could wrongly file this demo's or soundtrack's uid under."""
    if truth.kind not in (AppKind.DEMO, AppKind.SOUNDTRACK) or parent is None:
        return None
    base = apps[parent].truth
    if truth.mapped_igdb_ids or base.status is not MatchStatus.MATCHED:
        return None
    return base.igdb_id


def assign_store_types(
    *,
    seed: int,
    apps: dict[int, SteamApp],
    parents: dict[int, int],
    igdb: IgdbRecordFactory,
    claim: Callable[[str], bool],
    next_appid: Callable[[], int],
) -> None:
    """Give every app in `apps` its store type and parent, in place, and add the quirks."""
    rng = random.Random(f"{seed}:store")  # noqa: S311 - reproducible data, not security
    for appid in sorted(apps):
        app = apps[appid]
        truth = app.truth
        store_type: int | None = _KIND_TYPE[truth.kind]
        tags = list(truth.tags)
        if truth.kind is AppKind.GAME and truth.status is MatchStatus.FILTERED:
            entry = igdb.games[truth.igdb_id] if truth.igdb_id is not None else None
            store_type = _IGDB_FILTERED_TYPE.get(int(entry["game_type"]) if entry else 1, 4)
        elif truth.kind is AppKind.SOUNDTRACK and rng.random() < 0.3:
            store_type = 4  # older soundtracks are sold as DLC
        elif _typed_as_game(truth.kind, truth.name) and rng.random() < _TYPED_GAME_SHARE:
            store_type = 0
            tags.append("store_typed_game")
        parent = parents.get(appid) if truth.kind is not AppKind.GAME else None
        main = _pitfall_target(apps, truth, parent)
        if main is not None and rng.random() < _PITFALL_SHARE:
            igdb.link_steam(igdb.games[main], appid, truth.name)
            truth = dataclasses.replace(truth, igdb_id=main, mapped_igdb_ids=(main,))
            tags.append("igdb_pitfall")
        elif rng.random() < _DELISTED_SHARE and "store_typed_game" not in tags:
            store_type = None
            tags.append("delisted")
        apps[appid] = dataclasses.replace(
            app,
            truth=dataclasses.replace(truth, tags=tuple(tags)),
            store_type=store_type,
            parent_appid=parent if store_type is not None else None,
        )
    for title in STORE_TRAP_TITLES:
        if not claim(title):
            continue
        game = igdb.add_game(title)
        appid = next_appid()
        igdb.link_steam(game, appid, title)
        truth = AppTruth(
            appid,
            title,
            AppKind.GAME,
            MatchStatus.MATCHED,
            game["id"],
            MatchSource.EXTERNAL_GAMES,
            (),
            (game["id"],),
            ("store_trap",),
        )
        apps[appid] = SteamApp(appid, title, truth, f"{rng.getrandbits(160):040x}", store_type=0)
