"""The silent quadrant: the store says game (type 0) and IGDB has no entry for the app's uid.

Neither authority settles such an app, so the weaker clues are weighed instead (pure; weights
and reasoning in docs/classification.md §0.1). Each clue carries points, roughly how often an
app showing it in this quadrant is a non-game:

- 3: right ≥ 95 % on its own — a Steam naming convention that games do not use ("… Demo",
  "… Soundtrack", "… SDK", "… Trailer", "… Artbook", "… Bonus Content", "… Test Server"),
  or the store's own "Game demo" category;
- 2: right most of the time, wrong on some real games — a word games also use at the end of a
  title ("… Editor", "… Beta", "… Multiplayer"; 3 as a subtitle of its own, "X - Multiplayer",
  or a kind of editor, "X Level Editor"), a non-game user tag (Utilities, Software,
  Soundtrack, Documentary…), a parent app, the DLC category, or IGDB entries with exactly the
  app's title that are all add-ons;
- 1: a hint — a DLC-like name ("… Pack", "… Expansion"), or a free app that has a parent app
  (free alone says nothing: many games are free to play);
- negative: evidence of a game — an IGDB game with exactly the app's title (−3), the non-game
  word bundled after "+", "&", "and", "with" ("Sinless + OST", "Alpha & Beta": −2), players the
  store lists (single-player, co-op…) against a tool, software, video, soundtrack or bonus
  verdict that no clue of 3 makes (−2: the item is set up as a game).

An app is filtered at 3 points or more, and only when some clue says *what* it is (a name, a
tag, a category, an IGDB title): a parent app and a price say that something is an add-on,
never what. Real games with look-alike names stay: "The Editor" (2), "Alpha & Beta" (0),
"Sinless + OST" (1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from lambdas.enrichment.classifier import classify_steam_app, igdb_kind, normalize_name
from lambdas.enrichment.matching import normalize_title
from lambdas.models.igdb import IgdbGame
from lambdas.models.rows import AppKind
from lambdas.models.steam_store import StoreDetails

__all__ = [
    "FILTER_AT",
    "NAME_WEIGHTS",
    "STORE_CATEGORIES",
    "STORE_TAGS",
    "Clue",
    "Weighing",
    "weigh",
]

#: Points at which the clues file an app as a non-game.
FILTER_AT: Final = 3

#: Name rule → points in this quadrant (rules not listed say "game": no points).
NAME_WEIGHTS: Final[dict[str, int]] = {
    # Steam's naming conventions for non-games; no game title ends this way.
    "known_application": 3,
    "steam_runtime": 3,
    "benchmark": 3,
    "soundtrack_suffix": 3,
    "test_branch": 3,
    "server": 3,
    "demo": 3,
    "sdk_or_mod_tools": 3,
    "video": 3,
    "art_and_reading": 3,
    "bonus_content": 3,
    # Words real games also end on ("The Editor", "Kingdom Builder Beta").
    "editor": 2,
    "media_application": 2,
    "beta": 2,
    "multiplayer_component": 2,
    "soundtrack_word": 2,
    "music_suffix": 2,
    # DLC-like names: the store types real DLC 4, so a typed game named so is mostly a package.
    "preorder": 1,
    "pass": 1,
    "dlc_word": 1,
    "expansion": 1,
    "upgrade": 1,
    "content_pack": 1,
}

#: Steam user tag id → (name, kind): tags the community gives software and media, not games.
STORE_TAGS: Final[dict[int, tuple[str, AppKind]]] = {
    87: ("Utilities", AppKind.APPLICATION),
    8013: ("Software", AppKind.APPLICATION),
    84: ("Design & Illustration", AppKind.APPLICATION),
    872: ("Animation & Modeling", AppKind.APPLICATION),
    1027: ("Audio Production", AppKind.APPLICATION),
    784: ("Video Production", AppKind.APPLICATION),
    809: ("Photo Editing", AppKind.APPLICATION),
    1038: ("Web Publishing", AppKind.APPLICATION),
    1445: ("Software Training", AppKind.APPLICATION),
    13906: ("Game Development", AppKind.TOOL),
    7948: ("Soundtrack", AppKind.SOUNDTRACK),
    4700: ("Movie", AppKind.VIDEO),
    15339: ("Documentary", AppKind.VIDEO),
    776177: ("360 Video", AppKind.VIDEO),
}

#: Steam category id → (name, kind, points): the store's own labels of add-ons.
STORE_CATEGORIES: Final[dict[int, tuple[str, AppKind, int]]] = {
    10: ("Game demo", AppKind.DEMO, 3),
    21: ("Downloadable Content", AppKind.DLC, 2),
}

_TAG_POINTS: Final = 2
_PARENT_POINTS: Final = 2
_FREE_POINTS: Final = 1
_TITLE_ADDON_POINTS: Final = 2
_TITLE_GAME_POINTS: Final = -3
_BUNDLED_POINTS: Final = -2
_PLAYERS_POINTS: Final = -2
#: Kinds that never list players; a demo, beta or multiplayer component has its game's.
_PLAYERLESS: Final = frozenset(
    {AppKind.TOOL, AppKind.APPLICATION, AppKind.VIDEO, AppKind.SOUNDTRACK, AppKind.BONUS_CONTENT}
)
_BUNDLE_MARK: Final = re.compile(r"(?:\+|&|\band\b|\bwith\b|\bplus\b)")
_TAIL_WORDS: Final = 3
#: A Steam-style subtitle: the last " - " or ": " of the name and what follows it.
_SUBTITLE: Final = re.compile(r"(?: -|:) (?P<tail>[^:]{1,60})$")
_QUALIFIED_EDITOR: Final = re.compile(
    r"(?<=.)\b(?:level|map|mission|world|scenario|campaign|track|model|terrain|particle|unit"
    r"|mod|game|character) editor\b"
)
_MEDIUM: Final = 2
_STRONG: Final = 3


@dataclass(frozen=True, slots=True)
class Clue:
    """One piece of evidence: its label in the reason, its points, and the kind it names."""

    label: str
    points: int
    kind: AppKind | None = None


@dataclass(frozen=True, slots=True)
class Weighing:
    """The clues found, their sum, and the verdict: a non-game kind, or None (a game)."""

    clues: tuple[Clue, ...]
    kind: AppKind | None
    rule: str

    @property
    def points(self) -> int:
        return sum(clue.points for clue in self.clues)

    @property
    def reason(self) -> str:
        """The clues that decided, strongest first (`name:demo + store_tag:Utilities`)."""
        ordered = sorted((c for c in self.clues if c.points > 0), key=lambda c: -c.points)
        return " + ".join(clue.label for clue in ordered)


def _bundled(text: str, rule: str) -> bool:
    """Whether the rule's words come only in a short tail after "+", "&", "and", "with" or
    "plus": the name sells the game together with it ("Sinless + OST", "Alpha & Beta")."""
    marks = list(_BUNDLE_MARK.finditer(text))
    if not marks:
        return False
    last = marks[-1]
    head, tail = text[: last.start()].strip(), text[last.end() :].strip()
    if not head or len(tail.split()) > _TAIL_WORDS:
        return False
    return classify_steam_app(head).rule != rule


def _in_subtitle(text: str, rule: str) -> bool:
    """Whether the rule's words make up a Steam-style subtitle of their own, after a title
    that is a game by name ("Main Game - Multiplayer", "Main Game: Closed Beta"), or name a
    kind of editor ("… Level Editor"): the store's convention, not a game's title."""
    if rule == "editor" and _QUALIFIED_EDITOR.search(text):
        return True
    subtitle = _SUBTITLE.search(text)
    if subtitle is None or subtitle["tail"].startswith("the "):  # "X: The Editor" is a title
        return False
    if not classify_steam_app(text[: subtitle.start()]).enrich:
        return False
    return classify_steam_app(f"app {subtitle['tail']}").rule == rule


def _name_clues(name: str) -> list[Clue]:
    verdict = classify_steam_app(name)
    points = NAME_WEIGHTS.get(verdict.rule)
    if points is None or verdict.enrich:
        return []
    text = normalize_name(name)
    if points == _MEDIUM and _in_subtitle(text, verdict.rule):
        points = _STRONG
    clues = [Clue(f"name:{verdict.rule}", points, verdict.kind)]
    if _bundled(text, verdict.rule):
        clues.append(Clue("name:bundled", _BUNDLED_POINTS))
    return clues


def _store_clues(details: StoreDetails | None, parent_appid: int | None) -> list[Clue]:
    clues: list[Clue] = []
    if details is not None:
        for category in details.features:
            if category in STORE_CATEGORIES:
                label, kind, points = STORE_CATEGORIES[category]
                clues.append(Clue(f"store_category:{label}", points, kind))
        tag = next((STORE_TAGS[t] for t in details.tags if t in STORE_TAGS), None)
        if tag is not None:  # tags go together (Utilities, Software): the first one counts
            clues.append(Clue(f"store_tag:{tag[0]}", _TAG_POINTS, tag[1]))
    if parent_appid:
        clues.append(Clue("store_parent", _PARENT_POINTS))
        # Free says little alone (many games are free to play); free *and* attached to another
        # app is what demos, playtests, tools and servers are.
        if details is not None and details.is_free:
            clues.append(Clue("store_free", _FREE_POINTS))
    return clues


def _title_clues(name: str, title_games: Iterable[IgdbGame]) -> list[Clue]:
    """IGDB entries whose title is exactly the app's: a game among them says game; add-ons
    only say add-on."""
    wanted = normalize_title(name)
    same = [game for game in title_games if wanted and normalize_title(game.name) == wanted]
    kinds = [(game.game_type, igdb_kind(game.game_type)) for game in same]
    known = [(game_type, kind) for game_type, kind in kinds if kind is not None]
    if not known:
        return []
    if any(kind is AppKind.GAME for _, kind in known):
        return [Clue("igdb_title:game", _TITLE_GAME_POINTS)]
    game_type, kind = known[0]
    return [Clue(f"igdb_title_game_type={game_type}", _TITLE_ADDON_POINTS, kind)]


def weigh(
    *,
    name: str,
    details: StoreDetails | None,
    parent_appid: int | None,
    title_games: Sequence[IgdbGame] = (),
) -> Weighing:
    """Weigh every clue about an app the store calls a game and IGDB does not know."""
    clues = [
        *_name_clues(name),
        *_store_clues(details, parent_appid),
        *_title_clues(name, title_games),
    ]
    named = [clue for clue in clues if clue.kind is not None and clue.points > 0]
    # The strongest clue that names a kind gives it; on a tie the name, listed first, wins.
    kind = max(named, key=lambda clue: clue.points).kind if named else None
    strongest = max((clue.points for clue in clues), default=0)
    if kind in _PLAYERLESS and strongest < FILTER_AT and details is not None and details.players:
        clues.append(Clue("store_players", _PLAYERS_POINTS))
    total = sum(clue.points for clue in clues)
    if kind is None or total < FILTER_AT:
        return Weighing(tuple(clues), None, "steam_type")
    rule = next((c.label.removeprefix("name:") for c in clues if c.label.startswith("name:")), "")
    return Weighing(tuple(clues), kind, rule or "silent_evidence")
