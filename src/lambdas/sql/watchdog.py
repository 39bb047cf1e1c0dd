"""A client-side deadline on every wait for PostgreSQL, for the stall the server never sees.

A hung pooler or a half-dead route can pass the handshake and then hold the connection open in
silence. The server's `statement_timeout` never fires (the statement never reached it), and TCP
keepalives and `tcp_user_timeout` never fire either while something acknowledges the packets.
So every wait psycopg does on an open connection (a statement, its results, COMMIT, the pool's
ping) is bounded here; past the bound the connection is closed, and the caller sees a lost
connection, which `database_errors` reports as DATABASE_UNAVAILABLE.
"""

from __future__ import annotations

from typing import Any, TypeVar

import psycopg
import structlog
from psycopg import errors as pg_errors

log = structlog.get_logger()

RV = TypeVar("RV")

#: psycopg raises this (private) class when `Connection.wait`'s timeout expires.
_WAIT_TIMEOUT: type[BaseException] = getattr(pg_errors, "_WaitTimeout", TimeoutError)


class WatchedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait on the server ends after `watchdog_seconds`."""

    watchdog_seconds: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        limit = self.watchdog_seconds if timeout is None else timeout
        try:
            return super().wait(gen, interval, limit)
        except _WAIT_TIMEOUT:
            log.warning("db.stalled", waited_s=limit, action="connection closed")
            self.close()
            raise psycopg.OperationalError(
                f"the database sent no answer within {limit:g} s (DATABASE_STATEMENT_TIMEOUT "
                "plus a margin); the connection was closed"
            ) from None


def watched_connection(seconds: float, *cargs: Any, **cparams: Any) -> WatchedConnection:
    """A connection as psycopg.connect makes it, with the watchdog set to `seconds`."""
    connection = WatchedConnection.connect(*cargs, **cparams)
    connection.watchdog_seconds = seconds
    return connection
