"""Which source decides what an app is: the user's `keep`, Steam's store type, IGDB, then names.

Order (docs/classification.md):

1. `keep` — the user said this app is a game.
2. Steam's store type, when the store knows the app. A non-game type files the app, even when
   IGDB maps its uid to a main game (IGDB files some demos' and soundtracks' uids under the main
   game). Type 0 keeps it, except on high-confidence name evidence (an exact "Dedicated Server"
   or "Playtest" suffix) and, when IGDB turns out to have no entry for the uid (`igdb_silent`),
   except when the weaker clues add up (`evidence.weigh`: the name rules at full strength, the
   store item's tags, categories, parent app and price, the title fallback's IGDB entries).
3. IGDB's `game_type` of the entry the app's Steam uid maps to, when the store is silent (no item,
   or `success` not 1). A game-like entry keeps the app unless the name carries high-confidence
   evidence, now also a "Demo" or soundtrack suffix (the same IGDB pitfall, with no store type to
   catch it).
4. The name rules (`classify_steam_app`), only when both are silent.

Every decision carries a `reason`: `keep`, `steam_type=4`, `steam_type=0 + igdb main`,
`steam_type=0 + name:dedicated_server`, `steam_type=0 + igdb silent + name:demo`,
`steam_type=0 + igdb silent + name:editor + store_tag:Utilities`, `igdb_game_type=1`,
`igdb main + name:demo`, `name:soundtrack_suffix`, …
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from lambdas.enrichment.classifier import Classification, classify_steam_app, igdb_kind
from lambdas.enrichment.classifier import normalize_name as _normalize
from lambdas.enrichment.evidence import weigh
from lambdas.models.igdb import IgdbGame
from lambdas.models.rows import AppKind
from lambdas.models.steam_store import StoreAppType, StoreType

__all__ = [
    "SILENT",
    "STORE_KIND",
    "Decision",
    "by_weaker_evidence",
    "decide",
    "strong_name_evidence",
]

#: The part of a reason that says IGDB has no entry for an app the store calls a game.
SILENT: Final = "igdb silent"


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one app, the source that gave it, and the name rule behind it if any."""

    kind: AppKind
    reason: str
    rule: str

    @property
    def enrich(self) -> bool:
        return self.kind is AppKind.GAME

    def classification(self) -> Classification:
        return Classification(self.kind, enrich=self.enrich, rule=self.rule)


#: Steam store type → kind. Types 1-14 are all non-games.
STORE_KIND: Final[dict[int, AppKind]] = {
    StoreAppType.GAME: AppKind.GAME,
    StoreAppType.DEMO: AppKind.DEMO,
    StoreAppType.MOD: AppKind.BONUS_CONTENT,
    StoreAppType.MOVIE: AppKind.VIDEO,
    StoreAppType.DLC: AppKind.DLC,
    StoreAppType.GUIDE: AppKind.BONUS_CONTENT,
    StoreAppType.SOFTWARE: AppKind.APPLICATION,
    StoreAppType.VIDEO: AppKind.VIDEO,
    StoreAppType.SERIES: AppKind.VIDEO,
    StoreAppType.EPISODE: AppKind.VIDEO,
    StoreAppType.HARDWARE: AppKind.APPLICATION,
    StoreAppType.MUSIC: AppKind.SOUNDTRACK,
    StoreAppType.BETA: AppKind.BETA,
    StoreAppType.TOOL: AppKind.TOOL,
    StoreAppType.ADVERTISING: AppKind.VIDEO,
}

# Within a non-game store type, the name may name the kind more precisely: the store sells
# soundtracks, art books and multiplayer components as DLC, and servers as tools.
_REFINABLE: Final[dict[int, frozenset[AppKind]]] = {
    StoreAppType.DLC: frozenset(
        {AppKind.SOUNDTRACK, AppKind.BONUS_CONTENT, AppKind.MULTIPLAYER_COMPONENT}
    ),
    StoreAppType.TOOL: frozenset({AppKind.SERVER}),
    StoreAppType.SOFTWARE: frozenset({AppKind.TOOL}),
}

_BUNDLED: Final = re.compile(r"(?:\+|&| and | with | plus )")
_ALWAYS: Final = (
    ("dedicated_server", AppKind.SERVER, re.compile(r"(?<=.)\bdedicated server$")),
    ("playtest", AppKind.BETA, re.compile(r"(?<=.)\bplaytest$")),
)
_OVER_IGDB: Final = (
    *_ALWAYS,
    ("demo", AppKind.DEMO, re.compile(r"(?<=.)\b(?:free )?demo$")),
    (
        "soundtrack",
        AppKind.SOUNDTRACK,
        re.compile(r"(?<=.)\b(?:original |official )?(?:soundtrack|ost)$"),
    ),
)
#: The endings those patterns need (a normalized name has no trailing newline for `$`): a
#: name ending otherwise is no evidence, without running a pattern.
_ALWAYS_ENDINGS: Final = ("dedicated server", "playtest")
_OVER_IGDB_ENDINGS: Final = (*_ALWAYS_ENDINGS, "demo", "soundtrack", "ost")


def strong_name_evidence(name: str, *, over_igdb: bool = False) -> tuple[str, AppKind] | None:
    """(rule, kind) when the name alone is high-confidence evidence of a non-game, else None.

    Only exact suffixes count; a name that bundles ("Sinless + OST", "Game & Soundtrack") never
    does, because the product sold is the game.
    """
    text = _normalize(name)
    if not text.endswith(_OVER_IGDB_ENDINGS if over_igdb else _ALWAYS_ENDINGS):
        return None
    for rule, kind, pattern in _OVER_IGDB if over_igdb else _ALWAYS:
        if pattern.search(text) and not (rule == "soundtrack" and _BUNDLED.search(text)):
            return rule, kind
    return None


def _igdb_label(game_type: int | None) -> str:
    return "igdb main" if game_type in (0, None) else f"igdb_game_type={game_type}"


def decide(
    *,
    name: str,
    store: StoreType | None,
    igdb_entry: IgdbGame | None,
    kept: bool = False,
    igdb_silent: bool = False,
    title_games: Sequence[IgdbGame] = (),
) -> Decision:
    """The kind of one app from every source, in the order of precedence above.

    `igdb_silent` says IGDB was asked and has no entry for the uid (`igdb_entry` None before
    IGDB is asked means "not known yet"); `title_games` are the title fallback's entries.
    """
    if kept:
        return Decision(AppKind.GAME, "keep", "keep")
    store_kind = STORE_KIND.get(store.app_type) if store and store.app_type is not None else None
    if store is not None and store.app_type is not None and store_kind is not None:
        label = f"steam_type={store.app_type}"
        if store_kind is AppKind.GAME:
            strong = strong_name_evidence(name)
            if strong is not None:
                return Decision(strong[1], f"{label} + name:{strong[0]}", strong[0])
            if igdb_entry is not None:
                label = f"{label} + {_igdb_label(igdb_entry.game_type)}"
            elif igdb_silent:
                label = f"{label} + {SILENT}"
                weighed = weigh(
                    name=name,
                    details=store.details,
                    parent_appid=store.parent_appid,
                    title_games=title_games,
                )
                if weighed.kind is not None:
                    return Decision(weighed.kind, f"{label} + {weighed.reason}", weighed.rule)
            return Decision(AppKind.GAME, label, "steam_type")
        refinable = _REFINABLE.get(store.app_type)
        if refinable:
            verdict = classify_steam_app(name)
            if verdict.kind in refinable:
                return Decision(verdict.kind, f"{label} + name:{verdict.rule}", verdict.rule)
        return Decision(store_kind, label, "steam_type")
    if igdb_entry is not None:
        kind = igdb_kind(igdb_entry.game_type)
        if kind is not None:
            label = _igdb_label(igdb_entry.game_type)
            if kind is not AppKind.GAME:
                return Decision(kind, label, "igdb_game_type")
            strong = strong_name_evidence(name, over_igdb=True)
            if strong is not None:
                return Decision(strong[1], f"{label} + name:{strong[0]}", strong[0])
            return Decision(AppKind.GAME, label, "igdb_game_type")
    verdict = classify_steam_app(name)
    return Decision(verdict.kind, f"name:{verdict.rule}", verdict.rule)


def by_weaker_evidence(reason: str) -> bool:
    """Whether a non-game was filtered by evidence weaker than an authority's type: names and
    store-item clues (`name:…`, `… + name:…`, `steam_type=0 + igdb silent + …`), not a non-game
    store type or IGDB game_type. These are the verdicts worth a look in `filtered`."""
    if reason.startswith("steam_type=") and not reason.startswith("steam_type=0 "):
        return False  # a non-game store type; a name only says which kind
    return reason.startswith("name:") or " + name:" in reason or SILENT in reason
