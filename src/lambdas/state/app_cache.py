"""The shared app cache in the database: Steam store types and IGDB answers per Steam app id.

One row per app, for every user (this project's own schema, `steam_import`; on SQLite the same
table in the file). Reads and writes are set-based and chunked, whatever the library size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from pydantic import TypeAdapter
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    Table,
    Text,
    inspect,
    literal,
    select,
    true,
)
from sqlalchemy.engine import Connection, Engine

from lambdas.models.app_cache import NO_APP_CACHE, AppCache, IgdbAnswer
from lambdas.models.igdb import IgdbGame
from lambdas.models.steam_store import StoreDetails, StoreType
from lambdas.sql.dialect import Dialect, Spec
from lambdas.sql.engine import database_errors
from lambdas.state.schema import own_schema, own_state_metadata, own_tables_exist

log = structlog.get_logger()

#: Apps per statement, read or written: the statements stay few (the same count as in 2,000-row
#: batches) and one batch's JSON and rows stay small beside stage 2's peak (20,000 apps in one
#: statement: +25 MB).
CHUNK = 2_000

app_cache_table = Table(
    "app_cache",
    own_state_metadata,
    Column("app_id", BigInteger, primary_key=True, autoincrement=False),
    Column("store_checked_at", DateTime),
    Column("store_known", Boolean),
    Column("store_type", Integer),
    Column("store_parent_appid", BigInteger),
    Column("store_details", Text),
    Column("igdb_checked_at", DateTime),
    Column("igdb_games", Text),
    Column("igdb_title_name", Text),
    Column("igdb_title_games", Text),
    comment="What Steam's store and IGDB say about each app, shared by every user",
)

_STORE_COLUMNS = (
    "store_checked_at",
    "store_known",
    "store_type",
    "store_parent_appid",
    "store_details",
)
_IGDB_COLUMNS = ("igdb_checked_at", "igdb_games", "igdb_title_name", "igdb_title_games")
_games = TypeAdapter(tuple[IgdbGame, ...])
_details = TypeAdapter(StoreDetails)


def _naive(moment: datetime) -> datetime:
    """Stored as naive UTC, as every timestamp of the app's database."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _spec(*names: str) -> Spec:
    """The record set of these columns, typed as the table types them."""
    return [(name, app_cache_table.c[name].type) for name in names]


_ID_SPEC = _spec("app_id")
# The checked-at stamps are the statement's own (one value), not a column of every record.
_STORE_SPEC = _spec("app_id", *(name for name in _STORE_COLUMNS if name != "store_checked_at"))
_IGDB_SPEC = _spec("app_id", *(name for name in _IGDB_COLUMNS if name != "igdb_checked_at"))


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _upsert(
    connection: Connection,
    records: list[dict[str, Any]],
    spec: Spec,
    *,
    stamp_column: str,
    stamp: datetime,
) -> None:
    """Insert or update the spec's columns of each record's row, stamped `stamp`.

    A statement per chunk over a JSON record set: an executemany sent a statement a row
    (20,000 apps' types and IGDB answers: 0.77 s of CPU on PostgreSQL, against 0.10 s).
    """
    dialect = Dialect.for_connection(connection)
    r = dialect.recordset(spec)
    names = [name for name, _ in spec]
    statement = dialect.insert(app_cache_table).from_select(
        [*names, stamp_column],
        # The WHERE tells SQLite's parser that ON CONFLICT belongs to the INSERT.
        select(*(r.c[name] for name in names), literal(stamp, DateTime)).where(true()),
    )
    statement = statement.on_conflict_do_update(
        index_elements=[app_cache_table.c.app_id],
        set_={name: statement.excluded[name] for name in [*names[1:], stamp_column]},
    )
    for chunk in _chunks(records):
        connection.execute(statement, dialect.records_param(list(chunk), r))


class SqlAppCache:
    """`lambdas.models.app_cache.AppCache` on an engine; each call is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _rows(self, app_ids: Sequence[int], columns: Sequence[str]) -> Iterator[Any]:
        """The stored rows of `app_ids`, a statement per chunk joining them as a record set (an
        IN list of 2,000 bound ids cost more to bind than its rows to read)."""
        unique = [{"app_id": app_id} for app_id in dict.fromkeys(app_ids)]
        table = app_cache_table.c
        with database_errors(), self._engine.connect() as connection:
            dialect = Dialect.for_connection(connection)
            sent = dialect.recordset(_ID_SPEC, name="sent")
            wanted = select(table.app_id, *(table[name] for name in columns)).join_from(
                sent, app_cache_table, table.app_id == sent.c.app_id
            )
            for chunk in _chunks(unique):
                yield from connection.execute(wanted, dialect.records_param(list(chunk), sent))

    def get_types(self, app_ids: Sequence[int], *, fresh_since: datetime) -> dict[int, StoreType]:
        since = _naive(fresh_since)
        found: dict[int, StoreType] = {}
        for row in self._rows(app_ids, _STORE_COLUMNS):
            if row.store_checked_at is None or row.store_checked_at < since:
                continue
            if row.store_known and row.store_details is None:
                continue  # written before the item's own data was kept: ask again, once
            app_type = row.store_type if row.store_known else None
            details = (
                _details.validate_json(row.store_details) if row.store_details is not None else None
            )
            found[row.app_id] = StoreType(row.app_id, app_type, row.store_parent_appid, details)
        return found

    def put_types(self, types: Iterable[StoreType], *, now: datetime) -> None:
        records = [
            {
                "app_id": item.app_id,
                "store_known": item.known,
                "store_type": item.app_type,
                "store_parent_appid": item.parent_appid,
                "store_details": (
                    _details.dump_json(item.details).decode() if item.details is not None else None
                ),
            }
            for item in types
        ]
        if records:
            with database_errors(), self._engine.begin() as connection:
                _upsert(
                    connection,
                    records,
                    _STORE_SPEC,
                    stamp_column="store_checked_at",
                    stamp=_naive(now),
                )
            log.debug("app_cache.types_stored", apps=len(records))

    def get_igdb(
        self,
        app_ids: Sequence[int],
        *,
        now: datetime,
        positive_ttl: timedelta,
        negative_ttl: timedelta,
    ) -> dict[int, IgdbAnswer]:
        stamp = _naive(now)
        found: dict[int, IgdbAnswer] = {}
        for row in self._rows(app_ids, _IGDB_COLUMNS):
            if row.igdb_checked_at is None or row.igdb_games is None:
                continue
            games = _games.validate_json(row.igdb_games)
            ttl = positive_ttl if games else negative_ttl
            if stamp - row.igdb_checked_at > ttl:
                continue
            titles = (  # only an app without an id mapping falls back on its title
                _games.validate_json(row.igdb_title_games)
                if row.igdb_title_games is not None and not games
                else None
            )
            found[row.app_id] = IgdbAnswer(games, row.igdb_title_name, titles)
        return found

    def put_igdb(self, answers: Mapping[int, IgdbAnswer], *, now: datetime) -> None:
        records = [
            {
                "app_id": app_id,
                "igdb_games": _games.dump_json(answer.games, exclude_none=True).decode(),
                "igdb_title_name": answer.title_name,
                "igdb_title_games": (
                    _games.dump_json(answer.title_games, exclude_none=True).decode()
                    if answer.title_games is not None
                    else None
                ),
            }
            for app_id, answer in answers.items()
        ]
        if records:
            with database_errors(), self._engine.begin() as connection:
                _upsert(
                    connection,
                    records,
                    _IGDB_SPEC,
                    stamp_column="igdb_checked_at",
                    stamp=_naive(now),
                )
            log.debug("app_cache.igdb_stored", apps=len(records))


def _sqlite_file_missing(dialect: str, database: str | None) -> bool:
    """A SQLite file that does not exist yet (reading would create an empty one)."""
    if dialect != "sqlite" or not database or database.startswith((":", "file:")):
        return False
    return not Path(database).exists()


def open_shared_state(engine: Engine, *, user_id: str) -> tuple[AppCache, frozenset[int]]:
    """Stage 2's view of the own state: the shared app cache and the user's kept apps.

    A database without own state (no own-state tables, or no SQLite file yet: `db own-state`) has
    neither: stage 2 then asks Steam and IGDB for everything, with a warning. A database that
    cannot be reached is DATABASE_UNAVAILABLE, as for stage 3.
    """
    return _open(engine, user_id=user_id)


def open_app_cache(engine: Engine) -> AppCache:
    """The shared app cache alone (`NO_APP_CACHE` on a database without own state)."""
    return _open(engine, user_id=None)[0]


def _open(engine: Engine, *, user_id: str | None) -> tuple[AppCache, frozenset[int]]:
    from lambdas.state.filtered import app_override_table, kept_app_ids

    database = engine.url.database
    if _sqlite_file_missing(engine.dialect.name, database):
        log.info("app_cache.unavailable", reason="no database file yet")
        return NO_APP_CACHE, frozenset()
    with database_errors(), engine.connect() as connection:
        if not own_tables_exist(connection, [app_cache_table, app_override_table]):
            log.warning(
                "app_cache.unavailable",
                reason="own-state tables missing; steam-import db own-state",
            )
            return NO_APP_CACHE, frozenset()
        kept = kept_app_ids(connection, user_id) if user_id is not None else frozenset()
        if not _has_store_details(connection):
            log.warning(
                "app_cache.unavailable",
                reason="own state behind (no app_cache.store_details); steam-import db own-state",
            )
            return NO_APP_CACHE, kept
    return SqlAppCache(engine), kept


def _has_store_details(connection: Connection) -> bool:
    """Whether the app cache has the column of own-state revision s0002 (a database upgraded
    only to s0001 has not: stage 2 then goes without the cache until `db own-state` runs)."""
    columns = inspect(connection).get_columns(app_cache_table.name, schema=own_schema(connection))
    return any(column["name"] == "store_details" for column in columns)
