"""Enriched rows for database tests, named with the hard cases of tests/cases.py."""

from __future__ import annotations

from tests.cases import HARD_NAMES

from lambdas.models.rows import AppKind, EnrichedGameRow, GenreRef, MatchStatus, PlatformRef
from lambdas.models.text import clean_title

GENRES = [
    GenreRef(id=12, name="Role-playing (RPG)", slug="role-playing-rpg", checksum="c-12"),
    GenreRef(id=31, name='Adventure, "quoted"', slug="adventure"),
    GenreRef(id=32, name="Indie™ インディー", slug="indie"),
]
PLATFORMS = [
    PlatformRef(id=6, name="PC (Microsoft Windows)", slug="win", abbreviation="PC", generation=1),
    PlatformRef(id=14, name="Mac", slug="mac", alternative_name="Mac OS®"),
    PlatformRef(id=3, name="Linux", slug="linux", platform_type=4),
]


def hard_name(index: int) -> str:
    """A hard name that stays distinct per index."""
    return f"{HARD_NAMES[index % len(HARD_NAMES)]} #{index}"


def row(
    appid: int,
    *,
    status: MatchStatus = MatchStatus.MATCHED,
    igdb_id: int | None = None,
    name: str | None = None,
    igdb_name: str | None = None,
    slug: str | None = None,
    summary: str | None = 'A summary, with "quotes"\nand lines ✨',
    cover: str | None = "https://images.igdb.com/igdb/image/upload/t_cover_big/co1.jpg",
    release: int | None = 1_200_000_000,
    playtime: int = 0,
    windows: int = 0,
    mac: int = 0,
    linux: int = 0,
    deck: int = 0,
    last_played: int = 0,
    icon: str = "0f1e2d3c",
    genres: list[GenreRef] | None = None,
    platforms: list[PlatformRef] | None = None,
) -> EnrichedGameRow:
    """One enriched row; MATCHED rows get IGDB metadata (igdb id defaults to 100000 + appid)."""
    matched = status is MatchStatus.MATCHED
    igdb = (igdb_id if igdb_id is not None else 100_000 + appid) if matched else None
    return EnrichedGameRow(
        appid=appid,
        name=name if name is not None else hard_name(appid),
        playtime_forever=playtime or windows + mac + linux + deck,
        playtime_windows_forever=windows,
        playtime_mac_forever=mac,
        playtime_linux_forever=linux,
        playtime_deck_forever=deck,
        rtime_last_played=last_played,
        img_icon_url=icon,
        kind=AppKind.GAME if status is not MatchStatus.FILTERED else AppKind.DLC,
        classifier_rule="test",
        match_status=status,
        igdb_id=igdb,
        # IGDB titles as they enter the program: cleaned of control characters (models/text.py).
        igdb_name=(igdb_name or clean_title(f"{hard_name(appid)} (IGDB)")) if matched else None,
        igdb_slug=(slug or f"game-{igdb}") if matched else None,
        igdb_summary=summary if matched else None,
        igdb_first_release_date=release if matched else None,
        cover_url=cover if matched else None,
        genres=(GENRES[: 1 + appid % 3] if genres is None else genres) if matched else [],
        platforms=(PLATFORMS[: 1 + appid % 3] if platforms is None else platforms)
        if matched
        else [],
    )


def library(count: int, *, start: int = 1) -> list[EnrichedGameRow]:
    """`count` rows: every 10th FILTERED, every 7th UNMATCHED, the rest MATCHED; mixed playtimes."""
    rows: list[EnrichedGameRow] = []
    for appid in range(start, start + count):
        if appid % 10 == 0:
            status = MatchStatus.FILTERED
        elif appid % 7 == 0:
            status = MatchStatus.UNMATCHED
        else:
            status = MatchStatus.MATCHED
        minutes = (appid * 37) % 5 * 60
        rows.append(
            row(
                appid,
                status=status,
                windows=minutes if appid % 2 else 0,
                linux=minutes if appid % 2 == 0 else 0,
                last_played=1_700_000_000 + appid if minutes else 0,
            )
        )
    return rows
