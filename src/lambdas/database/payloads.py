"""Turn enriched CSV rows into the per-table records stage 3 writes, deduplicated, with no I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from lambdas.database.profiles import ImportMode, StatusRule
from lambdas.errors import MalformedCsvError
from lambdas.models.app_enums import IgdbMatchStatus
from lambdas.models.rows import INT4_MAX, EnrichedGameRow, GenreRef, MatchStatus, PlatformRef
from lambdas.state.filtered import filtered_record

#: LibraryItem.platform for each Steam playtime counter, in tie-breaking order.
STEAM_PLATFORMS: tuple[tuple[str, str], ...] = (
    ("playtime_windows_forever", "PC (Microsoft Windows)"),
    ("playtime_mac_forever", "Mac"),
    ("playtime_linux_forever", "Linux"),
    ("playtime_deck_forever", "Steam Deck"),
)
#: How timestamps travel inside JSON payloads: SQLAlchemy's SQLite storage format, which
#: PostgreSQL parses as well.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_EPOCH = datetime(1970, 1, 1)
_SLUG_JUNK = re.compile(r"[^\w]+")

Record = dict[str, Any]
_Ref = TypeVar("_Ref", GenreRef, PlatformRef)


@dataclass(frozen=True)
class ImportPayload:
    """Everything one import writes, table by table, as JSON-ready records."""

    imported_games: list[Record] = field(default_factory=list)
    genres: list[Record] = field(default_factory=list)
    platforms: list[Record] = field(default_factory=list)
    games: list[Record] = field(default_factory=list)
    #: (game IGDB id, genre IGDB id) and (game, platform) pairs, sorted: `game_genres` and
    #: `game_platforms` make their records when asked, so the ~70,000 link records of a large
    #: library exist only while their own statement runs (pairs take a third of the memory).
    genre_pairs: list[tuple[int, int]] = field(default_factory=list)
    platform_pairs: list[tuple[int, int]] = field(default_factory=list)
    library_items: list[Record] = field(default_factory=list)
    #: The matched wishlisted games the user does not own ({igdbId, storefrontGameId}); their
    #: Game rows are among `games`, they have no ImportedGame.
    wishlist_items: list[Record] = field(default_factory=list)
    #: The non-game rows (FILTERED) as this project's filtered list records them
    #: (`state.filtered.filtered_record`); never the app's tables.
    non_games: list[Record] = field(default_factory=list)

    @property
    def game_genres(self) -> list[Record]:
        """The GameGenre records ({gameIgdbId, genreIgdbId}), made on each access."""
        return [{"gameIgdbId": game, "genreIgdbId": other} for game, other in self.genre_pairs]

    @property
    def game_platforms(self) -> list[Record]:
        """The GamePlatform records ({gameIgdbId, platformIgdbId}), made on each access."""
        return [
            {"gameIgdbId": game, "platformIgdbId": other} for game, other in self.platform_pairs
        ]


def format_timestamp(value: datetime | None) -> str | None:
    """A naive UTC timestamp as payload text (aware values are converted to UTC first)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if value.year >= 1000:
        # The same text as TIMESTAMP_FORMAT at a sixth of strftime's cost (1 µs against 6 µs,
        # for the ~26,000 timestamps of a 20,000-game import); strftime pads no year below 1000.
        return value.isoformat(" ", "microseconds")
    return value.strftime(TIMESTAMP_FORMAT)


def unix_to_timestamp(seconds: int | None) -> str | None:
    """Unix seconds (Steam, IGDB) as payload text; None and 0 ("never") stay None."""
    if not seconds:
        return None
    return format_timestamp(_EPOCH + timedelta(seconds=seconds))


def slugify(title: str) -> str:
    """A URL slug from a title, keeping letters of every script (used when IGDB gave none)."""
    return _SLUG_JUNK.sub("-", title.casefold()).strip("-_")


def build_payload(
    rows: Iterable[EnrichedGameRow],
    *,
    new_id: Callable[[], str],
    rule: StatusRule,
    now: datetime,
    mode: ImportMode = ImportMode.LIBRARY,
    library_platform: str | None = None,
    wished: Iterable[EnrichedGameRow] = (),
) -> ImportPayload:
    """The records stage 3 writes for `rows`; `new_id` makes ids for rows that turn out new.

    - Only MATCHED and UNMATCHED rows become ImportedGame records; FILTERED rows (non-games) are
      left out. A Steam app id seen twice keeps its first row.
    - Several Steam apps may match one IGDB game: the Game record takes the lowest app id as its
      `steamAppId`, and the LibraryItem looks at the minutes summed over those apps.
    - A LibraryItem's status comes from `rule` (summed playtime, latest last-played, `now`); its
      platform is `library_platform`, else `choose_platform`. Curate mode makes no LibraryItems,
      and its matched ImportedGames are PENDING: the user adds them to the library in the app.
    - Genre and platform records are unique by IGDB id, then by name and by slug (lowest IGDB id
      wins), because all three are unique in the app's tables.
    - Game slugs are IGDB's (or the title's, slugified, when IGDB gave none); two games of one
      import wanting the same slug: the lower IGDB id keeps it, the other gets
      ``{slug}-{igdbId}`` (the writer applies the same rule against the database).
    """
    # Rows are reduced as they arrive to what the records need (the ImportedGame values, and for
    # matched apps a slotted summary sharing one instance per genre and platform), so a streamed
    # CSV of a large library never sits in memory as row models.
    kept: dict[int, Record] = {}
    games: dict[int, list[_MatchedApp]] = {}
    shared: dict[Any, Any] = {}
    unmatchable: int | None = None
    non_games: list[Record] = []
    for row in rows:
        if row.match_status is MatchStatus.FILTERED:
            non_games.append(filtered_record(row))
            continue
        if row.appid in kept:
            continue
        kept[row.appid] = _imported_values(row, mode)
        if row.match_status is MatchStatus.MATCHED:
            if row.igdb_id is None:
                unmatchable = row.appid if unmatchable is None else unmatchable
                continue
            games.setdefault(row.igdb_id, []).append(_MatchedApp.of(row, shared))
    if unmatchable is not None:
        raise MalformedCsvError(f"app {unmatchable} is MATCHED but has no igdb_id")
    owned_games = set(games)
    wishlist_items: list[Record] = []
    for row in wished:  # `wished`: matched wishlisted apps the user does not own
        if row.igdb_id is None or row.appid in kept:
            continue
        games.setdefault(row.igdb_id, []).append(_MatchedApp.of(row, shared))
        wishlist_items.append({"igdbId": row.igdb_id, "storefrontGameId": str(row.appid)})
    for values in kept.values():  # ids in place: a copy of 20,000 records would stay as RSS
        values["id"] = new_id()
    by_game = {
        igdb: apps if len(apps) == 1 else sorted(apps, key=lambda r: r.appid)
        for igdb, apps in sorted(games.items())
    }
    matched = [row for apps in by_game.values() for row in apps]
    genres = _unique_refs(ref for row in matched for ref in row.genres)
    platforms = _unique_refs(ref for row in matched for ref in row.platforms)
    return ImportPayload(
        imported_games=list(kept.values()),
        genres=[genre_record(ref, new_id()) for ref in genres],
        platforms=[platform_record(ref, new_id()) for ref in platforms],
        games=_games(by_game, new_id),
        genre_pairs=_links(by_game, lambda r: r.genres),
        platform_pairs=_links(by_game, lambda r: r.platforms),
        library_items=[]
        if mode is ImportMode.CURATE
        else [
            record
            for igdb_id, apps in by_game.items()
            if igdb_id in owned_games
            for record in _library_items(
                igdb_id, [app for app in apps if app.appid in kept], rule, now, library_platform
            )
        ],
        wishlist_items=wishlist_items,
        non_games=non_games,
    )


def _one_of(ref: _Ref, shared: dict[Any, Any]) -> _Ref:
    """The one instance equal to `ref`: keyed by its field values, a tuple, whose hash and
    comparison run in C (a model's own run in Python, 150,000 times for 20,000 games)."""
    found: _Ref = shared.setdefault((type(ref), *ref.__dict__.values()), ref)
    return found


@dataclass(frozen=True, slots=True)
class _MatchedApp:
    """What the Game, link and LibraryItem records need from one matched row."""

    appid: int
    name: str
    igdb_name: str | None
    igdb_slug: str | None
    igdb_summary: str | None
    igdb_first_release_date: int | None
    igdb_franchise_id: int | None
    cover_url: str | None
    genres: tuple[GenreRef, ...]
    platforms: tuple[PlatformRef, ...]
    playtime_forever: int
    playtime_windows_forever: int
    playtime_mac_forever: int
    playtime_linux_forever: int
    playtime_deck_forever: int
    rtime_last_played: int

    @classmethod
    def of(cls, row: EnrichedGameRow, shared: dict[Any, Any]) -> _MatchedApp:
        """The summary of `row`; equal genre and platform refs become one instance via `shared`."""
        return cls(
            appid=row.appid,
            name=row.name,
            igdb_name=row.igdb_name,
            igdb_slug=row.igdb_slug,
            igdb_summary=row.igdb_summary,
            igdb_first_release_date=row.igdb_first_release_date,
            igdb_franchise_id=row.igdb_franchise_id,
            cover_url=row.cover_url,
            genres=tuple(_one_of(ref, shared) for ref in row.genres),
            platforms=tuple(_one_of(ref, shared) for ref in row.platforms),
            playtime_forever=row.playtime_forever,
            playtime_windows_forever=row.playtime_windows_forever,
            playtime_mac_forever=row.playtime_mac_forever,
            playtime_linux_forever=row.playtime_linux_forever,
            playtime_deck_forever=row.playtime_deck_forever,
            rtime_last_played=row.rtime_last_played,
        )


def _imported_values(row: EnrichedGameRow, mode: ImportMode) -> Record:
    """The ImportedGame record of `row`, all but its id."""
    if row.match_status is not MatchStatus.MATCHED:
        status = IgdbMatchStatus.UNMATCHED
    elif mode is ImportMode.CURATE:
        status = IgdbMatchStatus.PENDING
    else:
        status = IgdbMatchStatus.MATCHED
    return {
        "name": row.name,
        "storefrontGameId": str(row.appid),
        "playtime": row.playtime_forever,
        "playtimeWindows": row.playtime_windows_forever,
        "playtimeMac": row.playtime_mac_forever,
        "playtimeLinux": row.playtime_linux_forever,
        "lastPlayedAt": unix_to_timestamp(row.rtime_last_played),
        "img_icon_url": row.img_icon_url or None,
        "igdbMatchStatus": status.value,
    }


def _unique_refs(refs: Iterable[_Ref]) -> list[_Ref]:
    by_id: dict[int, _Ref] = {}
    for ref in refs:
        by_id.setdefault(ref.id, ref)
    names: set[str] = set()
    slugs: set[str] = set()
    unique: list[_Ref] = []
    for ref in sorted(by_id.values(), key=lambda r: r.id):
        if ref.name in names or ref.slug in slugs:
            continue
        names.add(ref.name)
        slugs.add(ref.slug)
        unique.append(ref)
    return unique


def genre_record(ref: GenreRef, record_id: str) -> Record:
    """The Genre record of an IGDB genre."""
    return {
        "id": record_id,
        "igdbId": ref.id,
        "name": ref.name,
        "slug": ref.slug,
        "checksum": ref.checksum,
    }


def platform_record(ref: PlatformRef, record_id: str) -> Record:
    """The Platform record of an IGDB platform."""
    return {
        "id": record_id,
        "igdbId": ref.id,
        "name": ref.name,
        "slug": ref.slug,
        "abbreviation": ref.abbreviation,
        "alternativeName": ref.alternative_name,
        "generation": ref.generation,
        "platformFamily": ref.platform_family,
        "platformType": ref.platform_type,
        "checksum": ref.checksum,
    }


def _games(by_game: dict[int, list[_MatchedApp]], new_id: Callable[[], str]) -> list[Record]:
    records: list[Record] = []
    taken: set[str] = set()
    for igdb_id, apps in by_game.items():
        row = apps[0]
        title = row.igdb_name or row.name
        slug = row.igdb_slug or slugify(title) or f"igdb-{igdb_id}"
        if slug in taken:
            slug = f"{slug}-{igdb_id}"
        taken.add(slug)
        records.append(
            {
                "id": new_id(),
                "igdbId": igdb_id,
                "title": title,
                "description": row.igdb_summary,
                "coverImage": row.cover_url,
                "releaseDate": unix_to_timestamp(row.igdb_first_release_date),
                # Steam app ids are uint32; Game.steamAppId is an INTEGER, so one beyond its
                # range (none exists today) is left unset rather than failing the import.
                "steamAppId": row.appid if row.appid <= INT4_MAX else None,
                "slug": slug,
                "franchiseId": row.igdb_franchise_id,
            }
        )
    return records


def _links(
    by_game: dict[int, list[_MatchedApp]],
    refs: Callable[[_MatchedApp], Sequence[GenreRef | PlatformRef]],
) -> list[tuple[int, int]]:
    return sorted(
        {(igdb, ref.id) for igdb, apps in by_game.items() for r in apps for ref in refs(r)}
    )


def _library_items(
    igdb_id: int,
    apps: list[_MatchedApp],
    rule: StatusRule,
    now: datetime,
    library_platform: str | None,
) -> list[Record]:
    latest = max(app.rtime_last_played for app in apps)
    status = rule.status(
        playtime=sum(app.playtime_forever for app in apps),
        last_played=_EPOCH + timedelta(seconds=latest) if latest else None,
        now=now,
    )
    platform = library_platform or choose_platform(apps)
    return [
        {
            "igdbId": igdb_id,
            "storefrontGameId": str(app.appid),
            "status": status,
            "platform": platform,
        }
        for app in apps
    ]


def choose_platform(apps: Sequence[EnrichedGameRow | _MatchedApp]) -> str | None:
    """Where the user played most, summed over `apps`: the largest of Steam's Windows, Mac, Linux
    and Steam Deck minutes, ties going to that order; None when Steam counted no per-platform
    minutes (never played, or played before Steam counted them), as the platform is unknown."""
    best_label: str | None = None
    best_minutes = 0
    for attribute, label in STEAM_PLATFORMS:
        minutes = sum(int(getattr(app, attribute)) for app in apps)
        if minutes > best_minutes:
            best_label, best_minutes = label, minutes
    return best_label
