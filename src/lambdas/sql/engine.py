"""Database engines from a URL (psycopg 3 or pysqlite), and the translation of their errors."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from lambdas.errors import (
    ConfigurationError,
    DatabaseRefusedError,
    DatabaseUnavailableError,
    SchemaDriftError,
)

if TYPE_CHECKING:
    from lambdas.config import Settings

#: The PostgreSQL schema of this project's own state (`lambdas.state`). Named here, below both
#: schemas' packages, because every SQLite engine maps it away: SQLite has no schemas, so those
#: tables sit in the database file.
OWN_SCHEMA = "steam_import"

#: Seconds a SQLite writer waits for another writer's lock before giving up.
SQLITE_BUSY_TIMEOUT = 30.0
#: Seconds the client waits beyond the statement timeout for any answer from PostgreSQL before
#: it closes the connection itself (the server's timeout cannot end a stall it never sees).
WATCHDOG_MARGIN = 5.0


#: The drivers this pipeline ships and tests, per database.
_DRIVERS = {"postgresql": {"psycopg"}, "sqlite": {"pysqlite"}}


def normalize_url(url: str) -> URL:
    """Parse `url`, pointing `postgres://` and `postgresql://` at the psycopg 3 driver.

    Anything that is not a PostgreSQL or SQLite URL with a shipped driver and a port from 1 to
    65535 is a ConfigurationError naming DATABASE_URL; the parser's own text (which may quote
    the URL, password included) is never shown or chained.
    """
    try:
        parsed = make_url(url)
        port = parsed.port
    except (ArgumentError, ValueError, TypeError):
        raise ConfigurationError(
            "DATABASE_URL is not a valid database URL "
            "(expected postgresql://user:password@host:port/database or sqlite:///path)"
        ) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend not in _DRIVERS:
        raise ConfigurationError(
            f"DATABASE_URL names the database {backend!r}: use PostgreSQL or SQLite"
        )
    if driver and driver not in _DRIVERS[backend]:
        raise ConfigurationError(
            f"DATABASE_URL names the driver {driver!r}, which is not installed: use "
            f"{backend}:// or {backend}+{next(iter(_DRIVERS[backend]))}://"
        )
    if port is not None and not 0 < port < 65536:
        raise ConfigurationError(
            f"DATABASE_URL has the port {port}: a port is a number from 1 to 65535"
        )
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """Bounds on every database wait (the DATABASE_*_TIMEOUT settings), so a server or network
    that stalls with TCP still open ends in DATABASE_UNAVAILABLE instead of a hang."""

    connect: int = 10  # seconds; libpq takes whole seconds, at least 2
    statement: float = 120.0
    lock: float = 30.0
    keepalive: int = 30  # idle seconds before TCP keepalive probes

    @property
    def watchdog(self) -> float:
        """Seconds any one wait for the server may last: the statement timeout and a margin."""
        return self.statement + WATCHDOG_MARGIN

    @classmethod
    def from_settings(cls, settings: Settings) -> DatabaseTimeouts:
        return cls(
            connect=settings.database_connect_timeout,
            statement=settings.database_statement_timeout,
            lock=settings.database_lock_timeout,
            keepalive=settings.database_keepalive_seconds,
        )

    def psycopg_connect_args(self) -> dict[str, Any]:
        interval = max(1, self.keepalive // 3)
        return {
            "connect_timeout": self.connect,
            "keepalives": 1,
            "keepalives_idle": self.keepalive,
            "keepalives_interval": interval,
            "keepalives_count": 3,
            # Data the peer never acknowledges (a dead path) fails the socket after this long;
            # a peer that acknowledges and never answers (a hung pooler) is the watchdog's.
            "tcp_user_timeout": min(self.keepalive + 3 * interval, math.ceil(self.watchdog)) * 1000,
        }


def create_engine(url: str, timeouts: DatabaseTimeouts | None = None) -> Engine:
    """An engine for `url`; on SQLite, foreign keys are enforced and transactions take the write
    lock at BEGIN (``BEGIN IMMEDIATE``), so two imports serialize instead of racing. On PostgreSQL
    connecting, every statement and every lock wait are bounded by `timeouts`, and every session
    runs in UTC."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    bounds = timeouts or DatabaseTimeouts()
    engine = sqlalchemy.create_engine(
        parsed, pool_pre_ping=True, connect_args=bounds.psycopg_connect_args()
    )

    @event.listens_for(engine, "do_connect")
    def _watched(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        from lambdas.sql.watchdog import watched_connection

        return watched_connection(bounds.watchdog, *cargs, **cparams)

    @event.listens_for(engine, "connect")
    def _session_timeouts(dbapi_connection: Any, _record: Any) -> None:
        # Session settings by SET rather than a startup `options` parameter, which poolers such
        # as RDS Proxy or PgBouncer may refuse; committed, so later rollbacks keep them.
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET statement_timeout = {int(bounds.statement * 1000)}")
        cursor.execute(f"SET lock_timeout = {int(bounds.lock * 1000)}")
        # The app's timestamps are UTC; column defaults (CURRENT_TIMESTAMP) use the session's
        # zone, which PGTZ, a role or a database setting may make another.
        cursor.execute("SET TIME ZONE 'UTC'")
        cursor.close()
        dbapi_connection.commit()

    return engine


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        folder = Path(url.database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where the folder should be, or no right to create it
            raise ConfigurationError(
                f"cannot make the SQLite database's folder {folder}: {exc.strerror}; "
                "check DATA_DIR (or DATABASE_URL)"
            ) from None
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


#: SQLSTATEs (and SQLite messages) of a table, column, type or schema that is not there.
_MISSING_OBJECT = frozenset({"42P01", "42703", "42704", "42883", "3F000"})
_SQLITE_MISSING = re.compile(r"no such (table|column)")
_MISSING_DATABASE = re.compile(r'database "[^"]*" does not exist')


@contextmanager
def database_errors() -> Iterator[None]:
    """Every database failure as a typed error: a lost, refused, stalled or timed-out connection
    is DatabaseUnavailableError (transient); a missing database, a schema other than expected or
    a refused statement are permanent (CONFIGURATION_ERROR, SCHEMA_DRIFT, DATABASE_REFUSED).

    The surrounding `engine.begin()` block has already rolled back when this sees the error.
    """
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        text = _first_line(exc)
        if _MISSING_DATABASE.search(text) or _sqlstate(exc) == "3D000":
            raise ConfigurationError(
                f"the database in DATABASE_URL does not exist ({text}); create it or fix the URL"
            ) from exc
        if _SQLITE_MISSING.search(text):
            raise _schema_drift(text) from exc
        raise DatabaseUnavailableError(f"database unavailable: {text}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailableError(f"database connection lost: {_first_line(exc)}") from exc
        if _sqlstate(exc) in _MISSING_OBJECT:
            raise _schema_drift(_first_line(exc)) from exc
        raise DatabaseRefusedError(
            f"the database refused a statement: {_first_line(exc)}; nothing was written"
        ) from exc
    except PoolTimeoutError as exc:
        raise DatabaseUnavailableError("no database connection became free in time") from exc
    except SQLAlchemyError as exc:
        raise DatabaseRefusedError(
            f"the database layer failed: {type(exc).__name__}; nothing was written"
        ) from exc


def _schema_drift(text: str) -> SchemaDriftError:
    return SchemaDriftError(
        f"the database is not the schema this pipeline expects ({text}); "
        "run `steam-import db check`"
    )


def _sqlstate(exc: DBAPIError) -> str | None:
    state = getattr(exc.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def _first_line(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else type(exc).__name__
    return text.strip().splitlines()[0] if text.strip() else type(exc.orig).__name__
