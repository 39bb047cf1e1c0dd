"""Classify a Steam app as a game or a non-game kind from its name, then refine with IGDB.

Names are normalized first (NFKC, ™/®/© dropped, invisible and control characters removed,
dashes unified, casefolded, whitespace collapsed); the rules below then run in order on that
text and the first match wins. Nothing matching means GAME (`default_game`): precision on games
matters most, so every rule is anchored on Steam's naming conventions (a suffix, a separator,
or a word that is never the first word of the title) rather than on a bare trap word, and
titles such as "Test Drive Unlimited 2", "Demonologist", "Tools Up!", "Season: A letter to
the future" or "Half-Life 2: Episode Two" stay games.

Order (rule name → kind):

 1. known_application → APPLICATION   exact names: Wallpaper Engine, Blender, Krita, RPG Maker …
 2. steam_runtime → TOOL               Proton, Steam Linux Runtime, Steamworks redistributables,
                                       SteamVR, Source SDK/Filmmaker, Spacewar
 3. benchmark → TOOL                   3DMark / PCMark / VRMark, "… Benchmark"
 4. game_with_soundtrack → GAME        "… Soundtrack Edition", "… Edition + Soundtrack"
 5. game_title_guard → GAME            "… Simulator", "… Tycoon", "… Videogame", "… Party Pack"
 6. soundtrack_suffix → SOUNDTRACK     "… (Original|Official|Digital) Soundtrack|OST [Vol. 2]"
 7. music_suffix → SOUNDTRACK          "… - Music", "… Original Score", "… Digital Music"
 8. soundtrack_word → SOUNDTRACK       "soundtrack" anywhere after the first word
 9. test_branch → BETA                 playtest, public/closed test, test server, "… Test" after
                                       a number, experimental / staging branch
10. beta → BETA                        "… Beta", "… Open Beta", "(Beta)"
11. server → SERVER                    "… Dedicated Server …", "… Server"
12. demo → DEMO                        the word "demo" after the first word, "free trial"
13. multiplayer_component → MULTIPLAYER_COMPONENT
                                       "… - Multiplayer", "… Multiplayer (Legacy)", "… - Zombies",
                                       "… Friend's Pass"
14. video → VIDEO                      "… Trailer", "…: The Movie", "… Documentary", making-of,
                                       "… Short Film", "… Animated Series", "… Interviews"
15. sdk_or_mod_tools → TOOL            SDK, mod/authoring/workshop tools, creation/assembly kit,
                                       "… Tools", character creator, redistributables, runtimes
16. media_application → APPLICATION    "… Video Editor", "… Photo Editor", "… Capture Utility" …
17. editor → TOOL                      "… (Level|Map|Mission) Editor"
18. art_and_reading → BONUS_CONTENT    art book, wallpapers, comics, e-books, guides, manuals,
                                       sketchbooks, audiobooks, "… - The Art of …"
19. preorder → DLC                     pre-order / pre-purchase / sign-up bonuses
20. bonus_content → BONUS_CONTENT      "… Bonus Content", "… Goodies", "… Bonus", "… - Extras"
21. pass → DLC                         season / expansion / year / character … pass
22. dlc_word → DLC                     "DLC", "Add-on" after the first word
23. expansion → DLC                    "… Expansion", "… Expansion Pack" (not standalone)
24. upgrade → DLC                      "… Deluxe Upgrade", "… Upgrade Pack", "Upgrade to …"
25. content_pack → DLC                 "… Pack", "… Costume", "… Language", "… DLC Bundle" …
26. default_game → GAME

Every quantifier is bounded or follows a disjoint token, so matching is linear in the name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module
from typing import Any, Final

from lambdas.models.igdb import GameType as IgdbGameType
from lambdas.models.rows import AppKind

__all__ = [
    "RULE_NAMES",
    "Classification",
    "IgdbGameType",
    "classify_steam_app",
    "igdb_kind",
    "normalize_name",
    "refine_with_igdb_game_type",
]


@dataclass(frozen=True, slots=True)
class Classification:
    """The verdict on one app: its kind, whether to enrich it, and the rule that decided."""

    kind: AppKind
    enrich: bool
    rule: str

    def __post_init__(self) -> None:
        if self.enrich != (self.kind is AppKind.GAME):
            raise ValueError("only GAME is enriched")


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    kind: AppKind
    pattern: re.Pattern[str]
    #: Every match holds one of these strings (empty: no such set is known): a name that holds
    #: none is passed without running the pattern, which is most names for most rules.
    needs: tuple[str, ...]
    #: `needs` as one pattern of plain strings: one C call per name, not one per string.
    gate: re.Pattern[str] | None

    def matches(self, text: str) -> bool:
        if self.gate is not None and self.gate.search(text) is None:
            return False
        return self.pattern.search(text) is not None


#: The parse `re.compile` reads (literal runs, branches, repeats); typeshed does not describe it.
_sre: Any = import_module("re._parser")


def _rule(name: str, kind: AppKind, *alternatives: str) -> _Rule:
    pattern = "|".join(f"(?:{a})" for a in alternatives)
    needs = required_strings(pattern)
    gate = re.compile("|".join(map(re.escape, needs))) if needs else None
    return _Rule(name, kind, re.compile(pattern), needs, gate)


def required_strings(pattern: str) -> tuple[str, ...]:
    """Strings one of which every match of `pattern` holds, read from its parse; () when the
    parse does not show such a set (an alternative with no required literal, a flag)."""
    parsed = _sre.parse(pattern)
    if parsed.state.flags & re.IGNORECASE:
        return ()
    found = _required(list(parsed))
    if not found:
        return ()
    # A string that holds another of the set adds nothing: the shorter one is found anyway.
    return tuple(sorted(a for a in found if not any(b != a and b in a for b in found)))


def _required(items: list[tuple[Any, Any]]) -> frozenset[str] | None:
    """One set of strings a match of this sequence must hold (None: none found). Every element
    of a sequence is matched, so each literal run, and each element's own set, is one."""
    candidates: list[frozenset[str]] = []
    run: list[str] = []
    for op, value in [*items, (None, None)]:
        if op is _sre.LITERAL:
            run.append(chr(value))
            continue
        if run:
            candidates.append(frozenset({"".join(run)}))
            run = []
        inner: frozenset[str] | None = None
        if op is _sre.SUBPATTERN:
            _group, add_flags, _del_flags, sub = value
            inner = None if add_flags else _required(list(sub))
        elif op is _sre.BRANCH:
            alternatives = [_required(list(sub)) for sub in value[1]]
            if all(alternative is not None for alternative in alternatives):
                inner = frozenset().union(*alternatives)  # type: ignore[arg-type]
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            low, _high, sub = value
            inner = _required(list(sub)) if low >= 1 else None
        if inner:
            candidates.append(inner)
    if not candidates:
        return None
    # The cheapest check: strings long enough to be rare (up to 4 characters), then few.
    return min(candidates, key=lambda strings: (-min(4, *map(len, strings)), len(strings)))


# Shared fragments. `_NS` = "not the first character", so a rule never fires on a title that
# *starts* with the trap word ("Demo Derby", "Tools Up!", "Soundtrack of the Ancients").
_NS: Final = r"(?<=.)\b"
_NUM: Final = r"(?: (?:#?\d{1,4}|[ivx]{1,4}))?"
_BRACKETED: Final = r"(?:\([^()]{0,40}\)|\[[^\[\]]{0,40}\])"
_PAREN: Final = r"(?: ?" + _BRACKETED + r")?"
_SEP: Final = r"(?: -|:) "
_VOL: Final = (
    r"(?:vol(?:ume)?\.? ?(?:\d{1,3}|[ivx]{1,4}|one|two|three)|part (?:\d{1,3}|[ivx]{1,4}))"
)
_OST_WORDS: Final = (
    r"(?:" + _VOL + r"|\d{1,3}|[ivx]{1,4}|(?:\+|&|and) (?:" + _VOL + r"|\d{1,3}|[ivx]{1,4})"
    r"|deluxe|extended|complete|remastered|bonus tracks?|version|selection|collection|album"
    r"|ep|flac|mp3|wav|(?:\+|&|and) (?:digital )?art ?book)"
)
_OST_TAIL: Final = r"(?:(?: -|:)? " + _OST_WORDS + r"| ?" + _BRACKETED + r"){0,3}"

_APP = AppKind.APPLICATION
_RULES: Final[tuple[_Rule, ...]] = (
    _rule(
        "known_application",
        _APP,
        r"^(?:wallpaper engine|blender|krita|obs studio|aseprite|rpg maker(?: [a-z0-9]+){1,3}"
        r"|visual novel maker|pixel game maker mv|vroid studio|houdini indie|lossless scaling"
        r"|soundpad|virtual desktop|xsoverlay|fpsvr|ovr advanced settings|ovr toolkit"
        r"|bigscreen beta|godot engine|clickteam fusion 2\.5|srpg studio|voicemod|voiceattack"
        r"|substance 3d (?:painter|designer|sampler)(?: \d{4})?|marmoset toolbag(?: \d)?"
        r"|live2d cubism(?: [a-z]+){0,2})$",
    ),
    _rule(
        "steam_runtime",
        AppKind.TOOL,
        r"^steam linux runtime\b",
        r"^(?:steamworks common redistributables|steamworks sdk redist|steamvr"
        r"|steam audio|source filmmaker|spacewar"
        r"|source sdk(?: base \d{4}(?: (?:singleplayer|multiplayer))?)?"
        r"|proton (?:\d{1,2}(?:\.\d{1,3}){0,2}(?: beta)?|experimental|hotfix|next"
        r"|easyanticheat runtime|battleye runtime))$",
    ),
    _rule(
        "benchmark",
        AppKind.TOOL,
        r"^(?:3dmark|pcmark \d{1,2}|vrmark|steamvr performance test)\b",
        _NS + r"benchmark(?: tool| test)?" + _PAREN + "$",
    ),
    _rule(
        "game_with_soundtrack",
        AppKind.GAME,
        r"\bsoundtrack edition$",
        r"\b(?:edition|game) (?:\+|&|and|with|plus) (?:the )?(?:original |official )?"
        r"(?:soundtrack|ost)$",
    ),
    _rule(
        "game_title_guard",
        AppKind.GAME,
        r"\b(?:simulator|tycoon|videogame|video game|the game)" + _NUM + _PAREN + "$",
        r"\bparty pack\b",
        r"^the jackbox\b",
    ),
    _rule(
        "soundtrack_suffix",
        AppKind.SOUNDTRACK,
        _NS + r"(?:original |official |digital |complete |game |extended )*"
        r"(?:soundtracks?|sound tracks?|ost|o\.s\.t\.?)" + _OST_TAIL + "$",
    ),
    _rule(
        "music_suffix",
        AppKind.SOUNDTRACK,
        r"(?:" + _NS + r"(?:original|official|digital|game) |" + _SEP + r")"
        r"(?:score|music|songs|sound collection|music collection|album)" + _OST_TAIL + "$",
    ),
    _rule("soundtrack_word", AppKind.SOUNDTRACK, _NS + r"soundtracks?\b"),
    _rule(
        "test_branch",
        AppKind.BETA,
        _NS + r"play ?tests?(?:ing)?\b",
        _NS + r"(?:public|closed|open|network|stress|technical|tech|limited|alpha|beta) "
        r"test(?:ing)?\b",
        _NS + r"test (?:server|client|build|branch|environment|realm)\b",
        r"(?<=\d) test$",
        _NS + r"(?:experimental(?: server| branch| build| version)?|staging(?: branch| server)?"
        r"|pts|ptb)" + _PAREN + "$",
    ),
    _rule(
        "beta",
        AppKind.BETA,
        _NS + r"(?:open |closed |public |private |technical |tech |early |multiplayer )?beta"
        r"(?: test(?:ing)?| version| build| branch| client| access| weekend)?"
        + _NUM
        + _PAREN
        + "$",
        r"\((?:open |closed |public )?beta\)",
        _NS + r"(?:open|closed|public) beta\b",
    ),
    _rule(
        "server",
        AppKind.SERVER,
        _NS + r"dedicated server\b",
        _NS
        + r"(?:game |headless |standalone |linux |windows )?server(?: tools?| files)?"
        + _PAREN
        + "$",
    ),
    _rule(
        "demo",
        AppKind.DEMO,
        _NS + r"demo\b",
        _NS + r"(?:free trial|trial version)\b",
        r"\((?:free )?trial\)",
    ),
    _rule(
        "multiplayer_component",
        AppKind.MULTIPLAYER_COMPONENT,
        _NS + r"(?:multiplayer|multi-player)(?: mode| component| client)?" + _PAREN + "$",
        _SEP + r"(?:zombies|mp|co-op|coop)$",
        _NS + r"friend's pass$",
    ),
    _rule(
        "video",
        AppKind.VIDEO,
        _NS + r"(?:official |launch |announcement |reveal |cinematic |gameplay |story |teaser )?"
        r"trailers?(?: \d{1,2})?" + _PAREN + "$",
        _NS + r"the (?:movie|film)(?: \d{1,2})?" + _PAREN + "$",
        _NS + r"(?:a )?documentary" + _PAREN + "$",
        _SEP + r"(?:the )?making[ -]of\b",
        _NS
        + r"(?:making[ -]of|behind the scenes|developer commentary|dev diar(?:y|ies))"
        + _PAREN
        + "$",
        # Films and footage sold beside a game: what the words name is watched, not played.
        _NS + r"(?:short film|animated (?:short|series|film)|music videos?|concert film"
        r"|live concert|interviews?|cutscenes|cinematics|webisodes?)" + _PAREN + "$",
    ),
    _rule(
        "sdk_or_mod_tools",
        AppKind.TOOL,
        _NS + r"sdk\b",
        _NS + r"(?:mod(?:ding)?|authoring|workshop|dev(?:elopment)?|developer|level design"
        r"|map(?:ping)?|editing|creation|world ?building|publishing) "
        r"(?:tools?|kit|toolkit|toolset|suite)\b",
        _NS + r"(?:assembly|construction|dev) kit\b",
        r"(?<=.):? ?\bcreation kit\b",
        _NS + r"(?:tools|toolkit)$",
        _NS + r"character (?:creator|editor)\b",
        _NS + r"(?:redistributables?|redist|runtimes?)\b",
    ),
    _rule(
        "media_application",
        _APP,
        _NS + r"(?:video|photo|image|audio|music|sound|sprite|pixel|vector|3d) "
        r"(?:editor|editing software|maker)\b",
        # Steam's software catalogue names products by what they do, at the end of the name.
        _NS + r"(?:capture utility|screen recorder|audio visuali[sz]er|font (?:designer|creator)"
        r"|photo retouch|streaming suite|input mapper|paint 3d|desktop companion|vr desktop)"
        + _NUM
        + "$",
    ),
    _rule(
        "editor",
        AppKind.TOOL,
        _NS + r"(?:level |map |mission |world |scenario |campaign |track |model |terrain "
        r"|particle |unit |mod |game )?editor(?: tools?| kit)?" + _NUM + _PAREN + "$",
    ),
    _rule(
        "art_and_reading",
        AppKind.BONUS_CONTENT,
        _NS + r"(?:art ?books?|art collection|concept art|artworks? (?:collection|book))\b",
        _NS + r"wallpapers?\b",
        _NS
        + r"(?:digital |web |prequel |official )?(?:comics?|comic book|graphic novel)"
        + _NUM
        + _PAREN
        + "$",
        _NS + r"(?:e-?books?|novel by|lore ?book|guide ?book|strategy guide|official guide"
        r"|digital guide|game guide|(?:digital|official|game) manual|booklet|post ?cards"
        r"|ringtones|papercraft)\b",
        # Books about a game: its art, its sketches, its story read aloud.
        _NS
        + r"(?:sketch ?books?|design works|illustrations|audio ?books?|audio drama)"
        + _PAREN
        + "$",
        _SEP + r"the art of\b",
    ),
    _rule(
        "preorder",
        AppKind.DLC,
        _NS + r"pre-? ?(?:order|purchase)\b",
        _NS + r"preorder\b",
        _NS + r"(?:sign-?up(?: campaign)?|early purchase|launch|day one) bonus\b",
    ),
    _rule(
        "bonus_content",
        AppKind.BONUS_CONTENT,
        _NS + r"(?:bonus (?:content|materials?|items?|pack)|digital extras|(?:digital )?goodies"
        r"|deluxe content|collector's content|bonus)" + _PAREN + "$",
        _SEP + r"(?:bonus )?extras$",
    ),
    _rule(
        "pass",
        AppKind.DLC,
        _NS + r"(?:season|expansion|expansions|year(?: \d{1,2}| one| two| three)?|annual"
        r"|battle|character|characters|dlc|content|story|hero|fighter|kombat|car|cars"
        r"|track|tracks|map|weapon|raid|premium|vip|dungeon|explorer's|chapter) pass\b",
    ),
    _rule("dlc_word", AppKind.DLC, _NS + r"(?:dlc|add-?on|add on)s?\b"),
    _rule(
        "expansion",
        AppKind.DLC,
        _NS + r"(?<!standalone )expansion(?: pack| set)?" + _NUM + _PAREN + "$",
        _NS + r"expansion pack\b",
    ),
    _rule(
        "upgrade",
        AppKind.DLC,
        _NS + r"upgrade(?: pack| kit| bundle)?" + _NUM + _PAREN + "$",
        _NS + r"upgrade to\b",
        _NS + r"edition (?:content|items|bonus|contents)\b",
    ),
    _rule(
        "content_pack",
        AppKind.DLC,
        _NS + r"packs?(?: #?\d{1,3}| [ivx]{1,4}| " + _VOL + r")?" + _PAREN + "$",
        _NS + r"(?:content creator|creator|radio station|cosmetic|costume|skin|character"
        r"|weapon|map|mission|starter|booster|supporter|unit|flavor|music|song) pack\b",
        _SEP + r"(?:[^:]{0,60} )?(?:costumes?|skins?|outfits?|liver(?:y|ies)|emotes?"
        r"|stickers?|decals?|portraits?|helmets?|hairstyles?|avatars?)"
        r"(?: set| bundle| collection)?" + _PAREN + "$",
        _SEP + r"[a-z]{3,20} (?:language|localization|voice pack|voiceover)$",
        _NS + r"(?:dlc|expansions?|content|upgrade|season|character|cosmetic|costume|skin"
        r"|weapon|map|bonus) bundle" + _NUM + _PAREN + "$",
    ),
)

RULE_NAMES: Final[tuple[str, ...]] = (*(r.name for r in _RULES), "empty_name", "default_game")

_MARKS: Final = re.compile(r"[™®©℠]")
_INVISIBLE: Final = re.compile(
    r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u206f\ufe00-\ufe0f\ufeff]"
)
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DASHES: Final = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_QUOTES: Final = re.compile(r"[\u2018\u2019\u02bc\uff07]")
_SPACES: Final = re.compile(r"\s+")
_DEFAULT: Final = Classification(AppKind.GAME, enrich=True, rule="default_game")
_EMPTY: Final = Classification(AppKind.GAME, enrich=True, rule="empty_name")


def normalize_name(name: str) -> str:
    """The text the name rules read: NFKC, marks and invisibles dropped, casefolded, one space."""
    return _normalize(name)


def _normalize(name: str) -> str:
    if name.isascii() and name.isprintable():
        # Every mark, invisible, dash, quote and control character the steps below change is
        # outside printable ASCII, and NFKC leaves ASCII as it is: only case and spaces remain.
        return " ".join(name.lower().split())
    return _normalize_unicode(name)


@lru_cache(maxsize=16_384)  # stage 2 reads a name again for each source it weighs
def _normalize_unicode(name: str) -> str:
    text = unicodedata.normalize("NFKC", _MARKS.sub("", name))
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    text = _QUOTES.sub("'", _DASHES.sub("-", text)).casefold()
    return _SPACES.sub(" ", text).strip()


def classify_steam_app(name: str) -> Classification:
    """Classify a Steam app by its name alone; total over every `str`.

    An empty (or blank) name carries no evidence, so it stays a GAME (`empty_name`) and
    IGDB's `game_type` decides once the app id is matched.
    """
    text = _normalize(name)
    if not text:
        return _EMPTY
    for rule in _RULES:
        if rule.matches(text):
            return Classification(rule.kind, enrich=rule.kind is AppKind.GAME, rule=rule.name)
    return _DEFAULT


# IGDB game_type → kind. GAME entries keep the app in the library; every other entry files it.
_IGDB_KIND: Final[dict[int, AppKind]] = {
    IgdbGameType.MAIN_GAME: AppKind.GAME,
    IgdbGameType.STANDALONE_EXPANSION: AppKind.GAME,
    IgdbGameType.REMAKE: AppKind.GAME,
    IgdbGameType.REMASTER: AppKind.GAME,
    IgdbGameType.EXPANDED_GAME: AppKind.GAME,
    IgdbGameType.PORT: AppKind.GAME,
    IgdbGameType.FORK: AppKind.GAME,
    IgdbGameType.EPISODE: AppKind.GAME,
    IgdbGameType.SEASON: AppKind.GAME,
    IgdbGameType.DLC_ADDON: AppKind.DLC,
    IgdbGameType.EXPANSION: AppKind.DLC,
    IgdbGameType.BUNDLE: AppKind.DLC,
    IgdbGameType.PACK: AppKind.DLC,
    IgdbGameType.UPDATE: AppKind.DLC,
    IgdbGameType.MOD: AppKind.BONUS_CONTENT,
}


def igdb_kind(game_type: int | None) -> AppKind | None:
    """The kind an IGDB `game_type` stands for (see `refine_with_igdb_game_type`); None when the
    type is absent or unknown (no evidence). A missing type on a game entry reads as main game."""
    if game_type is None:
        return AppKind.GAME
    return _IGDB_KIND.get(game_type)


def refine_with_igdb_game_type(
    classification: Classification, game_type: int | None
) -> Classification:
    """Apply IGDB's `game_type` of the matched game to a name verdict; IGDB can only demote.

    Mapping (ids from IGDB `game_types`):

    - main_game 0, standalone_expansion 4, remake 8, remaster 9, expanded_game 10, port 11,
      fork 12 → GAME: each is something you launch and play on its own.
    - dlc_addon 1, bundle 3, pack 13, update 14 → DLC, not added: content that attaches to
      another game (on Steam an app IGDB calls a bundle is a season pass, upgrade or DLC
      collection unlocker; an update is delivered as add-on content).
    - mod 5 → BONUS_CONTENT, not added: community-made extra content for another game.
    - expansion 2 → DLC, not added. On Steam an expansion (Blood and Wine, Far Harbor) is
      always a DLC of its base game, cannot be launched alone, and the base game is already
      in the library; playable-alone expansions are IGDB's standalone_expansion (4).
    - episode 6 → GAME. An episode that owns a Steam app id launches on its own (free first
      episodes such as "Life is Strange - Episode 1", Half-Life 2: Episode One/Two); paid
      later episodes are DLC of the season app and rarely appear as owned apps.
    - season 7 → GAME. A season ("The Walking Dead: Season Two") is the launchable app that
      holds its episodes; season *passes* are catalogued by IGDB as bundles or DLC.

    Only GAME verdicts are refined. A non-game verdict from a name rule is final even when
    IGDB says main_game: IGDB routinely attaches the Steam ids of demos, playtests, betas,
    soundtracks and dedicated servers to the parent game's `external_games`, so promoting
    them would add a game the user does not own — a wrong library entry, which is worse
    than a missing one. The name rules are narrow so that this costs few real games.
    A `None` or unknown id leaves the verdict unchanged (no evidence either way).
    """
    if game_type is None or not classification.enrich:
        return classification
    kind = _IGDB_KIND.get(game_type)
    if kind is None or kind is AppKind.GAME:
        return classification
    label = IgdbGameType(game_type).name.lower()
    return Classification(kind, enrich=False, rule=f"igdb_game_type_{label}")
