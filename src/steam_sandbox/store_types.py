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
- store traps: real-looking games whose names trip name rules ("Alpha & Beta", "The Editor");
- the silent quadrant (typed 0, no IGDB entry for the uid): some tools, demos, soundtracks,
  videos, bonus content and multiplayer components the store lists as games (`silent_nongame`;
  a third of the tools, demos, soundtracks and videos under a name that says nothing,
  "<game>: <Adjective> <Noun>", `silent_plain`), next to unmatched games whose titles trip name
  rules (`silent_game`, `NameFactory.lookalike_title`).

Every item also carries what GetItems tells about it besides the type, consistent with its
nature: user tags (a game's genres, which may include look-alikes such as "Great Soundtrack" or
"Level Editor"; a tool's "Utilities", a soundtrack's "Soundtrack", a video's "Documentary" —
not always: users tag `_TELLING_SHARE` of them so), supported-player categories (games, demos,
betas, multiplayer components and DLC have players; tools, videos, soundtracks and books do
not), the "Game demo" (on `_TELLING_SHARE` of the demos) and "Downloadable Content"
categories, and `is_free` (demos, betas, tools and servers; free-to-play games). A few plain
games carry a software tag among their genres (`software_tag`). A non-game under a plain name
without a telling tag or demo category is tagged `silent_untold`: no clue says what it is, so
stage 2 keeps it for review.

Everything here draws from its own RNGs after the rest of the world is built (the quadrant and
the items' data from a second one), so adding them changed no earlier app, name or IGDB row.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from typing import Any, Final

from steam_sandbox.igdb_records import IgdbRecordFactory
from steam_sandbox.models import AppKind, AppTruth, MatchSource, MatchStatus, SteamApp
from steam_sandbox.names import NameFactory

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


#: Steam user tag ids (the store's own numbering).
TAG_IDS: Final[dict[str, int]] = {
    "Action": 19,
    "Adventure": 21,
    "Indie": 492,
    "RPG": 122,
    "Strategy": 9,
    "Casual": 597,
    "Simulation": 599,
    "Puzzle": 1664,
    "Singleplayer": 4182,
    "Multiplayer": 3859,
    "Great Soundtrack": 1756,
    "Music": 1621,
    "Level Editor": 8122,
    "Utilities": 87,
    "Software": 8013,
    "Design & Illustration": 84,
    "Audio Production": 1027,
    "Video Production": 784,
    "Game Development": 13906,
    "Soundtrack": 7948,
    "Movie": 4700,
    "Documentary": 15339,
}
_GAME_TAGS: Final = (
    "Action",
    "Adventure",
    "Indie",
    "RPG",
    "Strategy",
    "Casual",
    "Simulation",
    "Puzzle",
    "Singleplayer",
    "Multiplayer",
    "Great Soundtrack",
    "Music",
    "Level Editor",
)
#: The tags users give each kind that is not played.
_KIND_TAGS: Final[dict[AppKind, tuple[str, ...]]] = {
    AppKind.SOUNDTRACK: ("Soundtrack",),
    AppKind.TOOL: ("Utilities", "Game Development"),
    AppKind.SERVER: ("Utilities",),
    AppKind.VIDEO: ("Documentary", "Movie"),
    AppKind.APPLICATION: (
        "Software",
        "Utilities",
        "Design & Illustration",
        "Audio Production",
        "Video Production",
    ),
    AppKind.BONUS_CONTENT: ("Design & Illustration",),
}
_TELLING_SHARE: Final = 0.85
_PLAYED: Final = frozenset(
    {AppKind.GAME, AppKind.DEMO, AppKind.BETA, AppKind.MULTIPLAYER_COMPONENT, AppKind.DLC}
)
_FREE: Final = frozenset({AppKind.DEMO, AppKind.BETA, AppKind.TOOL, AppKind.SERVER})
SINGLE_PLAYER, MULTI_PLAYER = 2, 1
GAME_DEMO, DOWNLOADABLE_CONTENT, ACHIEVEMENTS = 10, 21, 22
#: Kinds the store may list as games without IGDB knowing them, and the share that are.
_SILENT_KINDS: Final = frozenset(
    {
        AppKind.TOOL,
        AppKind.DEMO,
        AppKind.SOUNDTRACK,
        AppKind.VIDEO,
        AppKind.BONUS_CONTENT,
        AppKind.MULTIPLAYER_COMPONENT,
    }
)
_SILENT_SHARE: Final = 0.1
#: Kinds whose store data tells what they are without the name (a tag or the demo category).
_PLAIN_KINDS: Final = frozenset({AppKind.TOOL, AppKind.DEMO, AppKind.SOUNDTRACK, AppKind.VIDEO})
_PLAIN_SHARE: Final = 0.33
_LOOKALIKE_SHARE: Final = 0.03


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
    names: NameFactory,
    next_appid: Callable[[], int],
) -> None:
    """Give every app in `apps` its store type, parent and item data, in place, and add the
    quirks."""
    claim = names.claim
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
    _silent_quadrant(random.Random(f"{seed}:silent"), apps, names)  # noqa: S311 - test data


def _silent_quadrant(rng: random.Random, apps: dict[int, SteamApp], names: NameFactory) -> None:
    """Type some unmapped non-games 0, give some unmatched games look-alike titles, and give
    every store item its data (tags, categories, price), all from ``rng``."""
    for appid in sorted(apps):
        app = apps[appid]
        truth = app.truth
        tags = list(truth.tags)
        name, store_type = app.name, app.store_type
        parent = app.parent_appid
        silent = (
            truth.kind in _SILENT_KINDS
            and store_type not in (None, 0)
            and not truth.mapped_igdb_ids
            and parent is not None
            and rng.random() < _SILENT_SHARE
        )
        if silent and parent is not None:
            store_type = 0
            tags.append("silent_nongame")
            if truth.kind in _PLAIN_KINDS and rng.random() < _PLAIN_SHARE:
                plain = names.plain_subtitle(rng, apps[parent].name)
                if plain is not None:
                    name = plain
                    tags.append("silent_plain")
        elif (
            truth.kind is AppKind.GAME
            and truth.status is MatchStatus.UNMATCHED
            and store_type == 0
            and not truth.candidates
            and "trap_title" not in tags
            and rng.random() < _LOOKALIKE_SHARE
        ):
            lookalike = names.lookalike_title(rng, name)
            if lookalike is not None:
                name = lookalike
                tags.append("silent_game")
        details = _store_details(rng, truth.kind, app.free_to_play)
        if truth.kind is AppKind.GAME and "silent_game" not in tags and rng.random() < 0.02:
            # A game about making or tinkering: a software tag among its genres, never alone
            # enough to file it.
            extra = TAG_IDS[rng.choice(("Game Development", "Utilities"))]
            details["store_tags"] = (*details["store_tags"], extra)
            tags.append("software_tag")
        told = set(details["store_tags"]) & _telling(truth.kind) or (
            GAME_DEMO in details["store_features"]
        )
        if "silent_plain" in tags and not told:
            tags.append("silent_untold")
        apps[appid] = dataclasses.replace(
            app,
            name=name,
            truth=dataclasses.replace(truth, name=name, tags=tuple(tags)),
            store_type=store_type,
            **details,
        )


def _telling(kind: AppKind) -> set[int]:
    return {TAG_IDS[tag] for tag in _KIND_TAGS.get(kind, ())}


def _store_details(rng: random.Random, kind: AppKind, free_to_play: bool) -> dict[str, Any]:
    """What the store item says besides the type, consistent with the app's nature."""
    played = kind in _PLAYED
    tags = [TAG_IDS[tag] for tag in rng.sample(_GAME_TAGS, rng.randint(2, 5))] if played else []
    telling = _KIND_TAGS.get(kind, ())
    if telling and rng.random() < _TELLING_SHARE:
        tags.insert(0, TAG_IDS[rng.choice(telling)])
    players: tuple[int, ...] = ()
    if played:
        players = rng.choice(((SINGLE_PLAYER,), (SINGLE_PLAYER, MULTI_PLAYER), (MULTI_PLAYER,)))
    features = [ACHIEVEMENTS] if kind is AppKind.GAME and rng.random() < 0.5 else []
    if kind is AppKind.DEMO and rng.random() < _TELLING_SHARE:
        features.append(GAME_DEMO)
    elif kind is AppKind.DLC:
        features.append(DOWNLOADABLE_CONTENT)
    return {
        "store_free": free_to_play or kind in _FREE,
        "store_tags": tuple(dict.fromkeys(tags)),
        "store_players": players,
        "store_features": tuple(features),
    }
