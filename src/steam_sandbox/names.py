"""Deterministic, collision-free generation of game titles and Steam-style non-game app names."""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from typing import Final

from steam_sandbox.models import AppKind

_ADJECTIVES: Final = (
    "Crimson",
    "Silent",
    "Hollow",
    "Iron",
    "Golden",
    "Forgotten",
    "Eternal",
    "Broken",
    "Shattered",
    "Frozen",
    "Burning",
    "Hidden",
    "Lost",
    "Savage",
    "Radiant",
    "Dark",
    "Wild",
    "Ancient",
    "Neon",
    "Cosmic",
    "Stellar",
    "Rusty",
    "Mighty",
    "Tiny",
    "Brave",
    "Clockwork",
    "Emerald",
    "Obsidian",
    "Scarlet",
    "Velvet",
    "Sunken",
    "Howling",
    "Restless",
    "Feral",
    "Gilded",
    "Quiet",
    "Arcane",
    "Distant",
    "Endless",
    "Fallen",
    "Glass",
    "Lunar",
    "Solar",
    "Paper",
    "Pixel",
    "Crystal",
    "Thunder",
    "Midnight",
    "Copper",
    "Amber",
)
_NOUNS: Final = (
    "Harbor",
    "Kingdom",
    "Blade",
    "Frontier",
    "Odyssey",
    "Legacy",
    "Dungeon",
    "Citadel",
    "Horizon",
    "Echo",
    "Empire",
    "Voyage",
    "Requiem",
    "Covenant",
    "Outpost",
    "Labyrinth",
    "Bastion",
    "Wasteland",
    "Galaxy",
    "Cavern",
    "Tower",
    "Garden",
    "Station",
    "Colony",
    "Rebellion",
    "Prophecy",
    "Skies",
    "Depths",
    "Hunter",
    "Knight",
    "Pilot",
    "Wanderer",
    "Alchemist",
    "Ranger",
    "Samurai",
    "Witch",
    "Golem",
    "Dragon",
    "Phoenix",
    "Serpent",
    "Wolf",
    "Raven",
    "Lantern",
    "Compass",
    "Anchor",
    "Engine",
    "Circuit",
    "Protocol",
    "Signal",
    "Meridian",
    "Abyss",
    "Summit",
    "Forge",
    "Orchard",
    "Caravan",
    "Lighthouse",
    "Monolith",
    "Oracle",
    "Sentinel",
    "Voyager",
)
_PLACES: Final = (
    "Avalon",
    "the North",
    "the Void",
    "Eldoria",
    "Ashfall",
    "Mirewood",
    "Karthas",
    "the Deep",
    "Stormreach",
    "Valoria",
    "the Sands",
    "Ironvale",
    "Thornwick",
    "the Stars",
    "Blackmoor",
    "Sunhold",
    "Frostgate",
    "the Tides",
    "Emberfell",
    "Greywater",
    "Duskmoor",
    "Highcliff",
    "the Ruins",
    "Silverpine",
    "Oakheart",
    "Ravenholm",
    "Glimmerdeep",
    "the Wastes",
    "Brightwater",
    "Nightfall",
)
_NUMERALS: Final = ("2", "3", "II", "III", "IV", "Zero", "Reborn", "Remastered")
_EMOJI: Final = ("🚀", "🐉", "⚔️", "🌙", "🎮", "🔥", "🍄", "👾")
_CJK_PARTS: Final = (
    "星",
    "夜",
    "剣",
    "空",
    "龍",
    "風",
    "海",
    "月",
    "花",
    "雪",
    "影",
    "光",
    "炎",
    "森",
)
_CJK_TAILS: Final = ("の物語", "伝説", "の剣", "戦記", "の旅", "幻想曲", "の城")

# Real-looking game titles full of words that non-game rules look for.
TRAP_TITLES: Final = (
    "Test Drive Unlimited Solar Crown",
    "Demon's Souls Remastered",
    "The Expanse: A Telltale Series",
    "Season of the Witch Hunter",
    "Server Wars",
    "DLC Quest Legends",
    "Demolition Derby Rally",
    "Beta Decay",
    "Tools Up! Garden Party",
    "Art of Rally Sprint",
    "Soundtrack Attack",
    "Trailer Park Tycoon",
    "Video Horror Society Nights",
    "The Bonus Round",
    "Multiplayer Madness",
    "Dedicated Ghosts",
    "Editor's Cut: A Murder Mystery",
    "Demo Knight",
    "Playtest Panic",
    "The Sound of Dungeons",
    "Update Required",
    "Season: A Letter to the Future",
    "Soundtrack to the Apocalypse",
    "Server Room Escape",
    "Test Subject Zero",
)

_TEMPLATES: Final[dict[AppKind, tuple[str, ...]]] = {
    AppKind.DLC: (
        "{g} - Season Pass",
        "{g}: {a} {n} DLC",
        "{g} - Deluxe Upgrade",
        "{g} - {a} Costume Pack",
        "{g} - Expansion Pass",
        "{g} - {a} {n} Pack",
        "{g}: {n} of {p} (DLC)",
    ),
    AppKind.SOUNDTRACK: (
        "{g} Soundtrack",
        "{g} - Original Soundtrack",
        "{g} OST",
        "{g} - Official Soundtrack",
    ),
    AppKind.DEMO: ("{g} Demo", "{g} - Demo", "{g} Free Demo"),
    AppKind.BETA: ("{g} Playtest", "{g} Public Test", "{g} Beta", "{g} - Closed Beta"),
    AppKind.TOOL: ("{g} SDK", "{g} Level Editor", "{g} Modding Tools", "{g} Authoring Tools"),
    AppKind.SERVER: ("{g} Dedicated Server", "{g} - Dedicated Server"),
    AppKind.MULTIPLAYER_COMPONENT: ("{g} - Multiplayer", "{g} Multiplayer"),
    AppKind.VIDEO: ("{g} - Launch Trailer", "{g}: The Movie", "{g} - Documentary"),
    AppKind.BONUS_CONTENT: (
        "{g} - Digital Art Book",
        "{g} Artbook",
        "{g} - Wallpapers",
        "{g} - Official Strategy Guide",
    ),
}
_APP_BRANDS: Final = (
    "PixelForge",
    "WaveCraft",
    "Lumen",
    "Voxelia",
    "FrameGrab",
    "Keystroke",
    "Aurora",
    "Mosaic",
    "Nimbus",
    "Quasar",
    "Spline",
    "Tessera",
    "Vantage",
    "Zephyr",
    "Orbit",
    "Prism",
)
_APP_PRODUCTS: Final = (
    "Studio",
    "Wallpaper Engine",
    "Desktop Companion",
    "Paint 3D",
    "Capture Utility",
    "Input Mapper",
    "Audio Visualizer",
    "Animator",
    "Photo Retouch",
    "VR Desktop",
    "Font Designer",
    "Music Maker",
    "Streaming Suite",
    "Sprite Workshop",
)
EDITION_LABELS: Final = (
    "Deluxe Edition",
    "Game of the Year Edition",
    "Definitive Edition",
    "Complete Edition",
    "Gold Edition",
    "Director's Cut",
)

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)
_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def normalize(name: str) -> str:
    """Fold a title to the key used to keep generated names distinct (case, marks, punctuation)."""
    return _NON_ALNUM.sub("", name.replace("™", "").replace("®", "").casefold())


def slugify(name: str) -> str:
    """A lower-case ASCII slug of a title, possibly empty for titles without Latin letters."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _SLUG_STRIP.sub("-", ascii_name.lower().replace("'", "")).strip("-")


# Game titles with a non-game word where a name rule looks for one, but not in Steam's naming
# convention for that kind: a word games also end on, without a " - " subtitle of its own
# ("… Editor", "… Beta", "… Multiplayer"), a subtitle that is a title ("…: The Editor"), or the
# word sold together with the game ("… + OST", "… & Beta", "… + Expansion").
_LOOKALIKE_STYLES: Final = (
    "The {a} Editor",
    "{a} {n} Multiplayer",
    "{a} {n} Beta",
    "{n} & Beta",
    "{t} + OST",
    "{t} with Soundtrack",
    "{t} + Expansion",
    "{t}: The Editor",
)


class NameFactory:
    """Hands out titles that never collide (after normalization) with an earlier title."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._taken: set[str] = set()

    def claim(self, name: str) -> bool:
        """Reserve ``name``; False when an equal-after-normalization name is already taken."""
        key = normalize(name)
        if not key or key in self._taken:
            return False
        self._taken.add(key)
        return True

    def title(self) -> str:
        """A new plain game title (letters, spaces, colons and apostrophes only)."""
        while True:
            name = self._candidate()
            if self.claim(name):
                return name

    def hard_title(self) -> str:
        """A new game title with quotes, commas, backslashes, emoji, accents or CJK."""
        rng = self._rng
        while True:
            a, n, n2 = rng.choice(_ADJECTIVES), rng.choice(_NOUNS), rng.choice(_NOUNS)
            style = rng.randrange(7)
            if style == 0:
                name = f'{a} "{n}" Tales'
            elif style == 1:
                name = f"{n}, {n2} & Friends"
            elif style == 2:
                name = f"{n}\\{n2} Protocol"
            elif style == 3:
                name = f"{a} {n} {rng.choice(_EMOJI)}"
            elif style == 4:
                name = f"{rng.choice(_CJK_PARTS)}{rng.choice(_CJK_PARTS)}{rng.choice(_CJK_TAILS)}"
            elif style == 5:
                name = f"Café {n}: L'{a} Señor"
            else:
                name = f'Say "{n}", {a} Détective'
            if self.claim(name):
                return name

    def non_game(self, kind: AppKind, base: str) -> str:
        """A Steam-style name for a non-game app built on the game called ``base``."""
        rng = self._rng
        if kind is AppKind.APPLICATION:
            for attempt in itertools.count():
                name = f"{rng.choice(_APP_BRANDS)} {rng.choice(_APP_PRODUCTS)}"
                if attempt > 50 or rng.random() < 0.5:
                    name = f"{name} {rng.randrange(2, 12 + attempt)}"
                if self.claim(name):
                    return name
        templates = _TEMPLATES[kind]
        name = base
        for attempt in range(200):
            name = rng.choice(templates).format(
                g=base, a=rng.choice(_ADJECTIVES), n=rng.choice(_NOUNS), p=rng.choice(_PLACES)
            )
            if attempt >= 20:  # every Steam-style name is taken: number it as stores do
                name = f"{name} ({attempt - 18})"
            if self.claim(name):
                return name
        return name

    def lookalike_title(self, rng: random.Random, base: str) -> str | None:
        """A game title built on ``base`` that name rules alone would file as a non-game (see
        `_LOOKALIKE_STYLES`); None when every try is taken. Draws only from ``rng``."""
        for _ in range(20):
            name = rng.choice(_LOOKALIKE_STYLES).format(
                a=rng.choice(_ADJECTIVES), n=rng.choice(_NOUNS), t=base
            )
            if self.claim(name):
                return name
        return None

    def plain_subtitle(self, rng: random.Random, base: str) -> str | None:
        """ "<base>: <Adjective> <Noun>": a name that says nothing of what the app is (None when
        every try is taken). Draws only from ``rng``."""
        for _ in range(20):
            name = f"{base}: {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
            if self.claim(name):
                return name
        return None

    def _candidate(self) -> str:
        rng = self._rng
        a, n, n2, p = (
            rng.choice(_ADJECTIVES),
            rng.choice(_NOUNS),
            rng.choice(_NOUNS),
            rng.choice(_PLACES),
        )
        style = rng.randrange(8)
        if style == 0:
            base = f"{a} {n}"
        elif style == 1:
            base = f"The {a} {n}"
        elif style == 2:
            base = f"{n} of {p}"
        elif style == 3:
            base = f"{n} {n2}"
        elif style == 4:
            base = f"{a} {n}: {n2} of {p}"
        elif style == 5:
            base = f"{n}'s {n2}"
        elif style == 6:
            base = f"{a} {n}: The {rng.choice(_ADJECTIVES)} {n2}"
        else:
            base = f"{p}: {a} {n}"
        if rng.random() < 0.15:
            base = f"{base} {rng.choice(_NUMERALS)}"
        return base
