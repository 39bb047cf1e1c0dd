"""Builds IGDB-shaped rows (games, covers, external_games, franchises) for the generated world."""

from __future__ import annotations

import random
from typing import Any, Final

from steam_sandbox.names import slugify
from steam_sandbox.reference_data import (
    CONSOLE_PLATFORM_IDS,
    GENRES,
    GOG_SOURCE_ID,
    REFERENCE_TIMESTAMP,
    STEAM_SOURCE_ID,
    reference_tables,
)

Row = dict[str, Any]

_GENRE_IDS: Final = tuple(g[0] for g in GENRES)
_GENRE_WORDS: Final = (
    "action",
    "puzzle",
    "strategy",
    "role-playing",
    "racing",
    "survival",
    "platform",
    "stealth",
)
_SETTINGS: Final = (
    "a drowned city",
    "the edge of the galaxy",
    "a haunted archipelago",
    "a dying kingdom",
    "an endless desert",
    "a clockwork metropolis",
    "the frozen north",
    "a forgotten library",
)
_HOOKS: Final = (
    "Build, fight and explore at your own pace.",
    "Every choice echoes through the story.",
    "Gather a crew, chart the unknown and survive the night.",
    'Features "quoted" dialogue, commas, and a back\\slash or two.',
    "Master dozens of weapons and hundreds of upgrades.",
    "",
)
_LOW_DATE: Final = 788_918_400  # 1995-01-01
_HIGH_DATE: Final = REFERENCE_TIMESTAMP - 86_400 * 30


class IgdbRecordFactory:
    """Allocates ids and creates IGDB rows; every random choice comes from the injected RNG."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._game_id = 1000
        self._cover_id = 70_000
        self._external_id = 5_000_000
        self._slugs: set[str] = set()
        self.games: dict[int, Row] = {}
        self.covers: list[Row] = []
        self.external_games: list[Row] = []
        self.franchises: list[Row] = []
        self.reference = reference_tables(self.checksum)

    def checksum(self) -> str:
        """A random UUID-shaped checksum string."""
        h = f"{self._rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def release_date(self, year: int | None = None) -> int:
        """A Unix-seconds release date, inside ``year`` when given."""
        if year is None:
            return self._rng.randint(_LOW_DATE, _HIGH_DATE)
        start = (year - 1970) * 31_556_952
        return start + self._rng.randint(0, 31_000_000)

    def add_franchise(self, name: str) -> Row:
        """Create one franchise row."""
        fid = 100 + len(self.franchises)
        slug = self._unique_slug(name, fid)
        row: Row = {
            "id": fid,
            "name": name,
            "slug": slug,
            "url": f"https://www.igdb.com/franchises/{slug}",
            "games": [],
            "created_at": REFERENCE_TIMESTAMP - 200_000_000,
            "updated_at": REFERENCE_TIMESTAMP - 1_000_000,
            "checksum": self.checksum(),
        }
        self.franchises.append(row)
        return row

    def add_game(
        self,
        name: str,
        game_type: int = 0,
        *,
        parent_game: int | None = None,
        version_parent: int | None = None,
        version_title: str | None = None,
        on_pc: bool = True,
        release_date: int | None = None,
        dated: float = 0.93,
        with_cover: float = 0.93,
    ) -> Row:
        """Create a game row (and its cover); absent fields are simply not set."""
        rng = self._rng
        self._game_id += rng.randint(1, 4)
        gid = self._game_id
        slug = self._unique_slug(name, gid)
        row: Row = {"id": gid, "name": name, "slug": slug}
        if rng.random() < 0.9:
            row["summary"] = self._summary(name)
        if rng.random() < 0.15:
            row["storyline"] = f"Long ago, in {rng.choice(_SETTINGS)}, a story began."
        if release_date is not None:
            row["first_release_date"] = release_date
        elif rng.random() < dated:
            row["first_release_date"] = self.release_date()
        if rng.random() < with_cover:
            row["cover"] = self._add_cover(gid)
        row["genres"] = sorted(rng.sample(_GENRE_IDS, rng.randint(1, 3)))
        row["platforms"] = self._platforms(on_pc)
        row["game_type"] = game_type
        row["category"] = game_type
        if parent_game is not None:
            row["parent_game"] = parent_game
        if version_parent is not None:
            row["version_parent"] = version_parent
        if version_title is not None:
            row["version_title"] = version_title
        row["url"] = f"https://www.igdb.com/games/{slug}"
        created = REFERENCE_TIMESTAMP - rng.randint(10_000_000, 400_000_000)
        row["created_at"] = created
        row["updated_at"] = created + rng.randint(0, REFERENCE_TIMESTAMP - created)
        row["checksum"] = self.checksum()
        self.games[gid] = row
        return row

    def join_franchise(self, game: Row, franchise: Row, extra: Row | None = None) -> None:
        """Put a game in a main franchise (and optionally one more)."""
        game["franchise"] = franchise["id"]
        game["franchises"] = [franchise["id"]] + ([extra["id"]] if extra else [])
        franchise["games"].append(game["id"])
        if extra is not None:
            extra["games"].append(game["id"])

    def link_reverse(self, parent_id: int, field: str, child_id: int) -> None:
        """Append ``child_id`` to a list-valued reference (``dlcs``, ``bundles``) of a game."""
        self.games[parent_id].setdefault(field, []).append(child_id)

    def link_steam(self, game: Row, appid: int, store_name: str) -> Row:
        """Create the Steam ``external_games`` row (uid = app id as a string) for a game."""
        url = f"https://store.steampowered.com/app/{appid}"
        return self._link(game, str(appid), store_name, STEAM_SOURCE_ID, url, 6)

    def link_gog(self, game: Row, uid: str | None = None) -> Row:
        """Create a GOG ``external_games`` row for a game (uid random unless given)."""
        uid = uid or str(self._rng.randint(1_000_000_000, 2_099_999_999))
        url = f"https://www.gog.com/game/{game['slug'].replace('-', '_')}"
        return self._link(game, uid, game["name"], GOG_SOURCE_ID, url, 6)

    def tables(self) -> dict[str, list[Row]]:
        """All rows per IGDB endpoint name."""
        return {
            **self.reference,
            "games": list(self.games.values()),
            "covers": self.covers,
            "external_games": self.external_games,
            "franchises": self.franchises,
        }

    def _link(self, game: Row, uid: str, name: str, source: int, url: str, platform: int) -> Row:
        self._external_id += self._rng.randint(1, 3)
        row: Row = {
            "id": self._external_id,
            "uid": uid,
            "game": game["id"],
            "name": name,
            "url": url,
        }
        if "first_release_date" in game:
            row["year"] = 1970 + game["first_release_date"] // 31_556_952
        row["platform"] = platform
        row["external_game_source"] = source
        row["game_release_format"] = 1
        row["category"] = source
        row["media"] = 1
        row["created_at"] = game["created_at"]
        row["updated_at"] = game["updated_at"]
        row["checksum"] = self.checksum()
        self.external_games.append(row)
        game.setdefault("external_games", []).append(row["id"])
        return row

    def _add_cover(self, gid: int) -> int:
        self._cover_id += self._rng.randint(1, 7)
        cid = self._cover_id
        image_id = f"co{_base36(cid)}"
        self.covers.append(
            {
                "id": cid,
                "image_id": image_id,
                "url": f"//images.igdb.com/igdb/image/upload/t_thumb/{image_id}.jpg",
                "width": 264,
                "height": 374,
                "alpha_channel": False,
                "animated": False,
                "game": gid,
                "checksum": self.checksum(),
            }
        )
        return cid

    def _platforms(self, on_pc: bool) -> list[int]:
        rng = self._rng
        found = [6] if on_pc else []
        if on_pc and rng.random() < 0.2:
            found.append(14)
        if on_pc and rng.random() < 0.15:
            found.append(3)
        if not on_pc or rng.random() < 0.35:
            found.extend(rng.sample(CONSOLE_PLATFORM_IDS, rng.randint(1, 3)))
        return found

    def _summary(self, name: str) -> str:
        rng = self._rng
        hook = rng.choice(_HOOKS)
        text = f"{name} is a {rng.choice(_GENRE_WORDS)} game set in {rng.choice(_SETTINGS)}."
        return f"{text} {hook}" if hook else text

    def _unique_slug(self, name: str, row_id: int) -> str:
        base = slugify(name) or f"game-{row_id}"
        slug, n = base, 0
        while slug in self._slugs:
            n += 1
            slug = f"{base}--{n}"
        self._slugs.add(slug)
        return slug


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while value:
        value, rem = divmod(value, 36)
        out = digits[rem] + out
    return out or "0"
