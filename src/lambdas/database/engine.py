"""Database engines from a URL (psycopg 3 or pysqlite), and the translation of their errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

from lambdas.database.own_state import OWN_SCHEMA
from lambdas.errors import ConfigurationError, DatabaseUnavailableError

#: Seconds a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT = 30.0


def normalize_url(url: str) -> URL:
    """Parse `url`, pointing `postgres://` and `postgresql://` at the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError("DATABASE_URL is not a valid database URL") from exc
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"postgresql", "sqlite"}:
        raise ConfigurationError(
            f"unsupported database {parsed.get_backend_name()!r}: use PostgreSQL or SQLite"
        )
    return parsed


def create_engine(url: str) -> Engine:
    """An engine for `url`; on SQLite, foreign keys are enforced and transactions take the write
    lock at BEGIN (``BEGIN IMMEDIATE``), so two imports serialize instead of racing."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return sqlalchemy.create_engine(parsed, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sqlalchemy.create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT},
        # SQLite has no schemas: this project's own tables live in the same file.
        execution_options={"schema_translate_map": {OWN_SCHEMA: None}},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide where transactions begin (see the "begin" hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn a lost or refused connection into DatabaseUnavailableError (transient).

    The surrounding `engine.begin()` block has already rolled back when this sees the error.
    """
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailableError(f"database unavailable: {_first_line(exc)}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailableError(f"database connection lost: {_first_line(exc)}") from exc
        raise


def _first_line(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else type(exc).__name__
    return text.strip().splitlines()[0] if text.strip() else type(exc.orig).__name__
