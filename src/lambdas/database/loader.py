"""Stage 3's writer: import one user's enriched rows into the app's tables in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import exists, select
from sqlalchemy.engine import Connection, Engine

from lambdas.collector import collector_paused
from lambdas.config import Settings
from lambdas.database import placement, upserts
from lambdas.database.checks import check_fit
from lambdas.database.ids import new_id as default_new_id
from lambdas.database.payloads import (
    ImportPayload,
    build_payload,
    genre_record,
    platform_record,
)
from lambdas.database.profiles import ImportMode, Profile, StatusRule, resolve_profile, status_rule
from lambdas.database.tables import AppTables, tables_for
from lambdas.database.wishlist import write_wishlist
from lambdas.errors import SchemaDriftError, UserNotFoundError
from lambdas.models.events import ImportStats
from lambdas.models.rows import (
    EnrichedGameRow,
    EnrichedWishlistRow,
    GenreRef,
    MatchStatus,
    PlatformRef,
)
from lambdas.sql.dialect import Dialect, Record
from lambdas.sql.engine import create_engine, database_errors
from lambdas.state.filtered import record_filtered_apps
from lambdas.state.placement import has_placements, has_wishlist_state

log = structlog.get_logger()

__all__ = [
    "ImportStats",
    "LoadOptions",
    "Target",
    "create_engine",
    "create_library_item",
    "import_rows",
    "open_target",
    "upsert_game",
    "upsert_genre",
    "upsert_imported_game",
    "upsert_platform",
    "utc_now",
]


def utc_now() -> datetime:
    """The current time as the app stores it: naive UTC, millisecond precision."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class LoadOptions:
    """How stage 3 writes: the schema profile (`auto` detects it), the mode and the status rule
    overrides (None: chosen by the live enum's labels). Built from settings by the caller."""

    app_schema: str = "auto"
    mode: ImportMode = ImportMode.LIBRARY
    status_unplayed: str | None = None
    status_played: str | None = None
    status_playing: str | None = None
    status_wishlist: str | None = None
    recent_days: float = 7.0
    suspicious_shrink_ratio: float = 0.5
    #: Whether the rows' IGDB facts are the pipeline's own (stage 3 sets it from the enriched
    #: CSV's signature). False: only the user's own rows (ImportedGame, LibraryItem for Games
    #: already stored) are written, never a shared Game, Genre, Platform or their links.
    catalogue_verified: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, *, mode: str | None = None) -> LoadOptions:
        """The options `settings` give, `mode` (the `--mode` flag) overriding IMPORT_MODE."""
        return cls(
            app_schema=settings.app_schema,
            mode=ImportMode(mode or settings.import_mode),
            status_unplayed=settings.library_status_unplayed,
            status_played=settings.library_status_played,
            status_playing=settings.library_status_playing,
            status_wishlist=settings.library_status_wishlist,
            recent_days=settings.library_status_recent_days,
            suspicious_shrink_ratio=settings.suspicious_shrink_ratio,
        )


@dataclass(frozen=True)
class Target:
    """The live database as the loader sees it: its profile, tables and status rule."""

    profile: Profile
    tables: AppTables
    rule: StatusRule
    dialect: Dialect


def open_target(connection: Connection, options: LoadOptions) -> Target:
    """Recognise the profile and the status rule of the database behind `connection`."""
    dialect = Dialect.for_connection(connection)
    profile = resolve_profile(connection, options.app_schema)
    rule = status_rule(
        dialect.enum_labels(connection, "LibraryItemStatus"),
        unplayed=options.status_unplayed,
        played=options.status_played,
        playing=options.status_playing,
        wishlist=options.status_wishlist,
        recent_days=options.recent_days,
    )
    return Target(profile=profile, tables=tables_for(profile.name), rule=rule, dialect=dialect)


def import_rows(
    engine: Engine,
    *,
    user_id: str,
    rows: Iterable[EnrichedGameRow],
    options: LoadOptions | None = None,
    now: datetime | None = None,
    new_id: Callable[[], str] = default_new_id,
    wishes: Sequence[EnrichedWishlistRow] = (),
    partial: bool = False,
    library_games: int | None = None,
) -> ImportStats:
    """Write `rows` for `user_id` in one transaction and say what changed.

    `partial`: the rows are only the apps that changed since the last committed import (the
    others are in the database as they are), so the filtered list is updated for these apps
    only and the shrink check counts `library_games`, the library's games, instead of the rows.

    Per import, whatever its size and in every profile, the statements are: a transaction-scoped
    advisory lock on the user (PostgreSQL; SQLite's BEGIN IMMEDIATE serializes writers instead);
    the profile's detection and fit check (a fixed set of reflection queries); the user look-up;
    then one statement each: the backwards count, the apps already placed in the library, the
    ImportedGame UPDATE and INSERT, Genre, Platform, Game, GameGenre, GamePlatform (the four
    shared tables only when `options.catalogue_verified`), and in library mode the LibraryItem
    INSERT and the count of games left out because the user removed them. Rows travel as one
    JSON parameter per statement, so nothing is chunked.

    A game's LibraryItem is added once: the first time one of its apps is matched for the user
    (`lambdas.database.placement`); an item the user removed is never re-created.

    Raises UserNotFoundError, SchemaDriftError (the live schema does not fit the profile, or
    lacks a status the rule writes; nothing is written), MalformedCsvError (a MATCHED row without
    an IGDB id) and DatabaseUnavailableError (connection refused or lost; rolled back).
    """
    options = options or LoadOptions()
    stamp = now or utc_now()
    with database_errors(), engine.begin() as connection:
        Dialect.for_connection(connection).lock_user(connection, user_id)
        target = open_target(connection, options)
        _refuse_misfit(connection, target, user_id=user_id)
        recorded = has_placements(connection)
        # Wishlisted games get Game rows only when their items may be written.
        writes_wishlist = (
            bool(wishes)
            and options.catalogue_verified  # its games are shared Game rows
            and options.mode is ImportMode.LIBRARY
            and target.rule.wishlist is not None
            and has_wishlist_state(connection)
        )
        with collector_paused():  # ~200,000 surviving records and rows (huge)
            payload = build_payload(
                rows,
                new_id=new_id,
                rule=target.rule,
                now=stamp,
                mode=options.mode,
                library_platform=target.profile.library_platform,
                wished=[
                    row
                    for row in wishes
                    if writes_wishlist and not row.owned and row.match_status is MatchStatus.MATCHED
                ],
            )
        writer = upserts.Writer(connection, target.tables, target.dialect, stamp, user_id)
        games = len(payload.imported_games)
        only = None
        if partial:
            only = {int(record["storefrontGameId"]) for record in payload.imported_games}
            only.update(int(record["app_id"]) for record in payload.non_games)
        stats = _write(
            writer, payload, options, library_games if partial else None, recorded=recorded
        )
        if wishes:
            wished = write_wishlist(
                writer,
                wishes,
                items=payload.wishlist_items,
                owned_items=payload.library_items,
                mode=options.mode,
                rule=target.rule,
                library_platform=target.profile.library_platform,
                catalogue_verified=options.catalogue_verified,
            )
            stats = stats.model_copy(
                update={
                    "wishlist_items_created": wished.created,
                    "wishlist_in_library": wished.in_library,
                    "wishlist_removed_by_user": wished.removed,
                    "wishlist_not_written": wished.not_written,
                    "wishlist_not_written_reason": wished.reason,
                    "wishlist_promoted": wished.promoted,
                }
            )
        if recorded and options.mode is ImportMode.LIBRARY:
            placement.record_owned(writer, payload.library_items)
        record_non_games(writer, payload.non_games, only=only)
    log_line = log.warning if stats.suspicious_shrink else log.debug
    log_line(
        "database.import_finished",
        profile=target.profile.name.value,
        mode=options.mode.value,
        games=games,
        partial=partial,
        **stats.model_dump(),
    )
    return stats


def _refuse_misfit(connection: Connection, target: Target, *, user_id: str) -> None:
    fit = check_fit(connection, target.tables, target.rule)
    if fit.problems:
        raise SchemaDriftError(
            f"the database does not fit the {target.profile.name.value} schema profile "
            "(run `steam-import db check`): " + "; ".join(fit.problems)
        )
    user = target.tables.user.c
    if not connection.execute(select(exists().where(user.id == user_id))).scalar():
        raise UserNotFoundError(f'no user with id {user_id!r} in "{target.tables.user.name}"')


def _write(
    w: upserts.Writer,
    payload: ImportPayload,
    options: LoadOptions,
    library_games: int | None,
    *,
    recorded: bool,
) -> ImportStats:
    library = len(payload.imported_games) if library_games is None else library_games
    stored, kept = upserts.count_backwards(w, payload.imported_games)
    placed = placement.already_placed(w, payload.library_items, recorded=recorded)
    created, updated = upserts.upsert_imported_games(
        w, payload.imported_games, any_stored=stored > 0
    )
    # The largest record sets are let go once written, so the later statements' records and
    # JSON reuse their memory instead of adding to the peak.
    payload.imported_games.clear()
    new_games = {record["id"] for record in payload.games}
    games: list[str] = []
    if options.catalogue_verified:
        games = _write_catalogue(w, payload, release=True)
    items = removed = 0
    if options.mode is ImportMode.LIBRARY:
        # A game enters the library once: apps placed before are left out, and those whose game
        # has no item now are the ones the user removed (counted, never re-added).
        fresh = [r for r in payload.library_items if r["storefrontGameId"] not in placed]
        again = [r for r in payload.library_items if r["storefrontGameId"] in placed]
        items = upserts.create_library_items(w, fresh)
        removed = upserts.count_games_without_item(w, again)
    games_created = {record_id for record_id in games if record_id in new_games}
    shrink = bool(stored) and library < stored * options.suspicious_shrink_ratio
    return ImportStats(
        imported_games_created=len(created),
        imported_games_updated=len(updated),
        games_created=len(games_created),
        games_updated=len(set(games) - games_created),
        library_items_created=items,
        removed_by_user_left_out=removed,
        playtimes_kept=kept,
        suspicious_shrink=shrink,
        catalogue_verified=options.catalogue_verified,
    )


def _write_catalogue(
    w: upserts.Writer, payload: ImportPayload, *, release: bool = False
) -> list[str]:
    """The shared rows: Genre, Platform, Game (never re-keyed: an existing Game keeps its IGDB
    id) and their links; the ids of the Games written. `release`: empty `payload.games` once
    written (the import needs them no further)."""
    upserts.upsert_genres(w, payload.genres)
    upserts.upsert_platforms(w, payload.platforms)
    games = upserts.upsert_games(w, payload.games, refresh=w.tables.profile.owned_by_us)
    if release:
        payload.games.clear()
    upserts.link_genres(w, payload.game_genres)
    upserts.link_platforms(w, payload.game_platforms)
    return games


def record_non_games(
    w: upserts.Writer, records: list[Record], *, only: set[int] | None = None
) -> None:
    """The one place the enriched CSV's non-game rows (as `ImportPayload.non_games` records)
    reach, inside the import's transaction and after the app's tables are written. They never
    go into the app's tables; this project's own state (filtered apps per user, in the
    `steam_import` schema) records them here (for the apps in `only` when the import sent only
    those)."""
    record_filtered_apps(w.connection, w.user_id, records, now=w.now, only=only)


# Single-row wrappers: the same set-based statements as an import, for callers that handle one
# game (the review list's "link", tools), in the caller's transaction (no lock and no schema
# check: the caller decides).


def _single(
    connection: Connection, user_id: str, now: datetime | None, options: LoadOptions | None
) -> tuple[upserts.Writer, Target]:
    target = open_target(connection, options or LoadOptions())
    writer = upserts.Writer(connection, target.tables, target.dialect, now or utc_now(), user_id)
    return writer, target


def upsert_imported_game(
    connection: Connection,
    row: EnrichedGameRow,
    *,
    user_id: str,
    now: datetime | None = None,
    options: LoadOptions | None = None,
) -> str | None:
    """Insert or update one ImportedGame; its id, or None when left alone (unchanged, deleted,
    or a FILTERED row, which is never written)."""
    w, target = _single(connection, user_id, now, options)
    payload = build_payload([row], new_id=default_new_id, rule=target.rule, now=w.now)
    created, updated = upserts.upsert_imported_games(w, payload.imported_games)
    written = created or updated
    return written[0] if written else None


def upsert_game(
    connection: Connection,
    row: EnrichedGameRow,
    *,
    now: datetime | None = None,
    options: LoadOptions | None = None,
) -> str | None:
    """Insert or update the Game of one MATCHED row with its genres, platforms and links; the
    Game's id, or None when nothing changed."""
    w, target = _single(connection, "", now, options)
    payload = build_payload([row], new_id=default_new_id, rule=target.rule, now=w.now)
    ids = _write_catalogue(w, payload)
    return ids[0] if ids else None


def create_library_item(
    connection: Connection,
    row: EnrichedGameRow,
    *,
    user_id: str,
    status_unplayed: str | None = None,
    status_played: str | None = None,
    now: datetime | None = None,
    options: LoadOptions | None = None,
) -> bool:
    """Create the user's LibraryItem for one MATCHED row unless one exists; True when created."""
    base = options or LoadOptions()
    chosen = LoadOptions(
        app_schema=base.app_schema,
        status_unplayed=status_unplayed or base.status_unplayed,
        status_played=status_played or base.status_played,
        status_playing=base.status_playing,
        status_wishlist=base.status_wishlist,
        recent_days=base.recent_days,
    )
    w, target = _single(connection, user_id, now, chosen)
    payload = build_payload(
        [row],
        new_id=default_new_id,
        rule=target.rule,
        now=w.now,
        library_platform=target.profile.library_platform,
    )
    return upserts.create_library_items(w, payload.library_items) > 0


def upsert_genre(connection: Connection, genre: GenreRef, *, now: datetime | None = None) -> None:
    """Insert or refresh one genre by IGDB id."""
    w, _target = _single(connection, "", now, None)
    upserts.upsert_genres(w, [genre_record(genre, default_new_id())])


def upsert_platform(
    connection: Connection, platform: PlatformRef, *, now: datetime | None = None
) -> None:
    """Insert or refresh one platform by IGDB id."""
    w, _target = _single(connection, "", now, None)
    upserts.upsert_platforms(w, [platform_record(platform, default_new_id())])
