"""Stage 3's writer: import one user's enriched rows into the app's tables in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

import structlog
from sqlalchemy import Text, exists, func, literal, select
from sqlalchemy.engine import Connection, Engine

from lambdas.database import upserts
from lambdas.database.drift import find_drift
from lambdas.database.engine import create_engine, database_errors
from lambdas.database.filtered import collect_filtered, record_filtered_apps
from lambdas.database.ids import new_id as default_new_id
from lambdas.database.payloads import (
    ImportPayload,
    build_payload,
    genre_record,
    platform_record,
)
from lambdas.errors import SchemaDriftError, UserNotFoundError
from lambdas.models.db import LibraryItemStatus, User
from lambdas.models.events import ImportStats
from lambdas.models.rows import EnrichedGameRow, GenreRef, PlatformRef

log = structlog.get_logger()

__all__ = [
    "ImportStats",
    "create_engine",
    "create_library_item",
    "import_rows",
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


def import_rows(
    engine: Engine,
    *,
    user_id: str,
    rows: Iterable[EnrichedGameRow],
    status_unplayed: str = LibraryItemStatus.CURIOUS_ABOUT.value,
    status_played: str = LibraryItemStatus.EXPERIENCED.value,
    now: datetime | None = None,
    new_id: Callable[[], str] = default_new_id,
) -> ImportStats:
    """Write `rows` for `user_id` in one transaction and say what changed.

    Per import, whatever its size, the statements are: on PostgreSQL a transaction-scoped
    advisory lock on the user, `pg_advisory_xact_lock(hashtext(user_id))` (on SQLite the
    transaction starts with BEGIN IMMEDIATE instead, which serializes writers); the schema
    check's fixed set of reflection queries; the user look-up; then one statement per table:
    ImportedGame, Genre, Platform, the Game re-key by Steam app id, Game, GameGenre, GamePlatform,
    LibraryItem (see `lambdas.database.upserts`). Rows travel as one JSON parameter per
    statement, so nothing is chunked on either database.

    Raises UserNotFoundError (no such User), SchemaDriftError (the live schema differs from the
    models, or lacks a configured status; nothing is written), MalformedCsvError (a MATCHED row
    without an IGDB id) and DatabaseUnavailableError (connection refused or lost; rolled back,
    safe to retry).
    """
    filtered: list[EnrichedGameRow] = []
    payload = build_payload(
        collect_filtered(rows, filtered),
        new_id=new_id,
        status_unplayed=status_unplayed,
        status_played=status_played,
    )
    stamp = now or utc_now()
    with database_errors(), engine.begin() as connection:
        _prepare(connection, user_id=user_id, statuses=(status_unplayed, status_played))
        stats = _write(connection, payload, user_id=user_id, now=stamp)
        record_filtered_apps(connection, user_id, filtered, now=stamp)
    log.debug("database.import_finished", games=len(payload.imported_games), **stats.model_dump())
    return stats


def _prepare(connection: Connection, *, user_id: str, statuses: Sequence[str]) -> None:
    """Lock the user, refuse a drifted schema, and make sure the user exists."""
    if connection.dialect.name == "postgresql":
        key = func.hashtext(literal(user_id, Text))
        connection.execute(select(func.pg_advisory_xact_lock(key)))
    problems = find_drift(connection, library_statuses=statuses)
    if problems:
        raise SchemaDriftError(
            "the database schema differs from the models (run `steam-import db check`): "
            + "; ".join(problems)
        )
    user = User.__table__.c
    if not connection.execute(select(exists().where(user.id == user_id))).scalar():
        raise UserNotFoundError(f"no User with id {user_id!r}")


def _write(
    connection: Connection, payload: ImportPayload, *, user_id: str, now: datetime
) -> ImportStats:
    new_imported = {record["id"] for record in payload.imported_games}
    imported = upserts.upsert_imported_games(
        connection, payload.imported_games, user_id=user_id, now=now
    )
    upserts.upsert_genres(connection, payload.genres, now=now)
    upserts.upsert_platforms(connection, payload.platforms, now=now)
    rekeyed = upserts.rekey_games_by_steam_app(connection, payload.games, now=now)
    new_games = {record["id"] for record in payload.games}
    games = upserts.upsert_games(connection, payload.games, now=now)
    upserts.link_genres(connection, payload.game_genres)
    upserts.link_platforms(connection, payload.game_platforms)
    items = upserts.create_library_items(
        connection, payload.library_items, user_id=user_id, now=now
    )
    imported_created = sum(1 for record_id in imported if record_id in new_imported)
    games_created = {record_id for record_id in games if record_id in new_games}
    return ImportStats(
        imported_games_created=imported_created,
        imported_games_updated=len(imported) - imported_created,
        games_created=len(games_created),
        games_updated=len((set(games) - games_created) | set(rekeyed)),
        library_items_created=items,
    )


# Single-row wrappers: the same set-based statements as an import, for callers that handle one
# game (the review list's "link", tools), in the caller's transaction (no lock and no schema
# check: the caller decides).


def upsert_imported_game(
    connection: Connection, row: EnrichedGameRow, *, user_id: str, now: datetime | None = None
) -> str | None:
    """Insert or update one ImportedGame; its id, or None when left alone (unchanged, deleted,
    or a FILTERED row, which is never written)."""
    payload = build_payload([row], new_id=default_new_id, status_unplayed="", status_played="")
    ids = upserts.upsert_imported_games(
        connection, payload.imported_games, user_id=user_id, now=now or utc_now()
    )
    return ids[0] if ids else None


def upsert_game(
    connection: Connection, row: EnrichedGameRow, *, now: datetime | None = None
) -> str | None:
    """Insert or update the Game of one MATCHED row with its genres, platforms and links; the
    Game's id, or None when nothing changed."""
    payload = build_payload([row], new_id=default_new_id, status_unplayed="", status_played="")
    stamp = now or utc_now()
    upserts.upsert_genres(connection, payload.genres, now=stamp)
    upserts.upsert_platforms(connection, payload.platforms, now=stamp)
    rekeyed = upserts.rekey_games_by_steam_app(connection, payload.games, now=stamp)
    ids = upserts.upsert_games(connection, payload.games, now=stamp)
    upserts.link_genres(connection, payload.game_genres)
    upserts.link_platforms(connection, payload.game_platforms)
    written = ids or rekeyed
    return written[0] if written else None


def create_library_item(
    connection: Connection,
    row: EnrichedGameRow,
    *,
    user_id: str,
    status_unplayed: str = LibraryItemStatus.CURIOUS_ABOUT.value,
    status_played: str = LibraryItemStatus.EXPERIENCED.value,
    now: datetime | None = None,
) -> bool:
    """Create the user's LibraryItem for one MATCHED row unless one exists; True when created."""
    payload = build_payload(
        [row], new_id=default_new_id, status_unplayed=status_unplayed, status_played=status_played
    )
    created = upserts.create_library_items(
        connection, payload.library_items, user_id=user_id, now=now or utc_now()
    )
    return created > 0


def upsert_genre(connection: Connection, genre: GenreRef, *, now: datetime | None = None) -> None:
    """Insert or refresh one genre by IGDB id."""
    record = genre_record(genre, default_new_id())
    upserts.upsert_genres(connection, [record], now=now or utc_now())


def upsert_platform(
    connection: Connection, platform: PlatformRef, *, now: datetime | None = None
) -> None:
    """Insert or refresh one platform by IGDB id."""
    record = platform_record(platform, default_new_id())
    upserts.upsert_platforms(connection, [record], now=now or utc_now())
