"""Static IGDB reference rows (genres, platforms, types, sources) reused by the generator."""

from __future__ import annotations

from typing import Any, Final

# id, name, slug — real IGDB genre rows.
GENRES: Final[tuple[tuple[int, str, str], ...]] = (
    (2, "Point-and-click", "point-and-click"),
    (4, "Fighting", "fighting"),
    (5, "Shooter", "shooter"),
    (7, "Music", "music"),
    (8, "Platform", "platform"),
    (9, "Puzzle", "puzzle"),
    (10, "Racing", "racing"),
    (11, "Real Time Strategy (RTS)", "real-time-strategy-rts"),
    (12, "Role-playing (RPG)", "role-playing-rpg"),
    (13, "Simulator", "simulator"),
    (14, "Sport", "sport"),
    (15, "Strategy", "strategy"),
    (16, "Turn-based strategy (TBS)", "turn-based-strategy-tbs"),
    (24, "Tactical", "tactical"),
    (25, "Hack and slash/Beat 'em up", "hack-and-slash-beat-em-up"),
    (26, "Quiz/Trivia", "quiz-trivia"),
    (30, "Pinball", "pinball"),
    (31, "Adventure", "adventure"),
    (32, "Indie", "indie"),
    (33, "Arcade", "arcade"),
    (34, "Visual Novel", "visual-novel"),
    (35, "Card & Board Game", "card-and-board-game"),
    (36, "MOBA", "moba"),
)

# id, name — platform_types (believed to mirror the old platforms.category enum).
PLATFORM_TYPES: Final[tuple[tuple[int, str], ...]] = (
    (1, "console"),
    (2, "arcade"),
    (3, "platform"),
    (4, "operating_system"),
    (5, "portable_console"),
    (6, "computer"),
)

# id, name, slug
PLATFORM_FAMILIES: Final[tuple[tuple[int, str, str], ...]] = (
    (1, "PlayStation", "playstation"),
    (2, "Xbox", "xbox"),
    (3, "Sega", "sega"),
    (4, "Linux", "linux"),
    (5, "Nintendo", "nintendo"),
)

# id, name, slug, abbreviation, alternative_name, generation, platform_family, platform_type
PLATFORMS: Final[tuple[tuple[int, str, str, str, str | None, int | None, int | None, int], ...]] = (
    (6, "PC (Microsoft Windows)", "win", "PC", "mswin", None, None, 6),
    (14, "Mac", "mac", "Mac", "Mac OS", None, None, 6),
    (3, "Linux", "linux", "Linux", "GNU/Linux", None, 4, 4),
    (48, "PlayStation 4", "ps4--1", "PS4", None, 8, 1, 1),
    (167, "PlayStation 5", "ps5", "PS5", None, 9, 1, 1),
    (9, "PlayStation 3", "ps3", "PS3", None, 7, 1, 1),
    (49, "Xbox One", "xboxone", "XONE", "XB1", 8, 2, 1),
    (169, "Xbox Series X|S", "series-x-s", "Series X|S", None, 9, 2, 1),
    (12, "Xbox 360", "xbox360", "X360", None, 7, 2, 1),
    (130, "Nintendo Switch", "switch", "Switch", "NX", 8, 5, 1),
    (34, "Android", "android", "Android", None, None, None, 4),
    (39, "iOS", "ios", "iOS", None, None, None, 4),
    (163, "SteamVR", "steam-vr", "Steam VR", None, None, None, 3),
    (82, "Web browser", "browser", "Browser", None, None, None, 3),
)

PC_PLATFORM_IDS: Final[tuple[int, ...]] = (6, 14, 3, 163)
CONSOLE_PLATFORM_IDS: Final[tuple[int, ...]] = (48, 167, 9, 49, 169, 12, 130)

# id, type — game_types (ids mirror the old games.category enum).
GAME_TYPES: Final[tuple[tuple[int, str], ...]] = (
    (0, "Main Game"),
    (1, "DLC"),
    (2, "Expansion"),
    (3, "Bundle"),
    (4, "Standalone Expansion"),
    (5, "Mod"),
    (6, "Episode"),
    (7, "Season"),
    (8, "Remake"),
    (9, "Remaster"),
    (10, "Expanded Game"),
    (11, "Port"),
    (12, "Fork"),
    (13, "Pack / Addon"),
    (14, "Update"),
)

# game_type ids that make a Steam app FILTERED rather than a game to add.
FILTERED_GAME_TYPES: Final[frozenset[int]] = frozenset({1, 3, 5, 13, 14})

# id, name — external_game_sources (ids reuse the old external_games.category enum).
EXTERNAL_GAME_SOURCES: Final[tuple[tuple[int, str], ...]] = (
    (1, "Steam"),
    (5, "GOG"),
    (10, "YouTube"),
    (11, "Microsoft"),
    (13, "Apple"),
    (14, "Twitch"),
    (15, "Android"),
    (20, "Amazon ASIN"),
    (22, "Amazon Luna"),
    (23, "Amazon ADG"),
    (26, "Epic Games Store"),
    (28, "Oculus"),
    (29, "Utomik"),
    (30, "itch.io"),
    (31, "Xbox Marketplace"),
    (32, "Kartridge"),
    (36, "PlayStation Store US"),
    (37, "Focus Entertainment"),
    (54, "Xbox Game Pass Ultimate Cloud"),
    (55, "Game Jolt"),
)
STEAM_SOURCE_ID: Final = 1
GOG_SOURCE_ID: Final = 5

REFERENCE_TIMESTAMP: Final = 1_700_000_000  # fixed "now" of the generated world (2023-11-14)


def reference_tables(checksum: Any) -> dict[str, list[dict[str, Any]]]:
    """Build the small reference endpoints' rows; ``checksum()`` yields one checksum per row."""
    stamp = {"created_at": REFERENCE_TIMESTAMP - 300_000_000, "updated_at": REFERENCE_TIMESTAMP}
    genres = [
        {
            "id": gid,
            "name": name,
            "slug": slug,
            "url": f"https://www.igdb.com/genres/{slug}",
            **stamp,
            "checksum": checksum(),
        }
        for gid, name, slug in GENRES
    ]
    platform_types = [
        {"id": tid, "name": name, **stamp, "checksum": checksum()} for tid, name in PLATFORM_TYPES
    ]
    families = [
        {"id": fid, "name": name, "slug": slug, "checksum": checksum()}
        for fid, name, slug in PLATFORM_FAMILIES
    ]
    platforms: list[dict[str, Any]] = []
    for pid, name, slug, abbreviation, alt, generation, family, ptype in PLATFORMS:
        row: dict[str, Any] = {"id": pid, "name": name, "slug": slug, "abbreviation": abbreviation}
        if alt is not None:
            row["alternative_name"] = alt
        if generation is not None:
            row["generation"] = generation
        if family is not None:
            row["platform_family"] = family
        row["platform_type"] = ptype
        row["category"] = ptype
        row["url"] = f"https://www.igdb.com/platforms/{slug}"
        row.update(stamp)
        row["checksum"] = checksum()
        platforms.append(row)
    game_types = [
        {"id": tid, "type": label, **stamp, "checksum": checksum()} for tid, label in GAME_TYPES
    ]
    sources = [
        {"id": sid, "name": name, **stamp, "checksum": checksum()}
        for sid, name in EXTERNAL_GAME_SOURCES
    ]
    return {
        "genres": genres,
        "platform_types": platform_types,
        "platform_families": families,
        "platforms": platforms,
        "game_types": game_types,
        "external_game_sources": sources,
    }
