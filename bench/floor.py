"""The floor of one benchmark phase: what the work needs at least, measured in the same run.

- network: the fewest round trips the phase's requests need at the sandbox's latency and limits
  (Steam Web API calls one after another, GetItems 8 in flight, the Twitch token, IGDB at
  4 requests a second), computed from the sandbox's own request counts;
- database: the rows the phase wrote, written again into an empty copy of the same tables, with
  their foreign keys checked, by PostgreSQL `COPY` (SQLite: one `executemany` transaction),
  timed;
- parse: the phase's upstream answers (recorded by `Recorder`) decoded by the fastest JSON
  decoder the lock file holds, timed.
"""

from __future__ import annotations

import json
import math
import struct
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import MetaData, Table, select
from sqlalchemy.engine import Engine

from lambdas.clients.http import shared_tls_context
from lambdas.models.db import metadata
from lambdas.state.filtered import filtered_app_table
from lambdas.state.schema import OWN_SCHEMA

#: table → (columns, rows)
Rows = dict[str, tuple[list[str], list[tuple[Any, ...]]]]
#: The sandbox's limits the network floor assumes (bench/runner.py sets the latency).
GETITEMS_IN_FLIGHT = 8
IGDB_PER_SECOND = 4
#: Tables the written rows reference (their first column is the primary key).
PARENTS = ("User", "Genre", "Platform", "Game")
#: Tables an import writes, with the column that tells a row this phase wrote.
WRITTEN: tuple[tuple[str, str | None], ...] = (
    ("Genre", "updatedAt"),
    ("Platform", "updatedAt"),
    ("Game", "updatedAt"),
    ("GameGenre", None),
    ("GamePlatform", None),
    ("ImportedGame", "updatedAt"),
    ("LibraryItem", "updatedAt"),
    ("filtered_app", "recorded_at"),
)


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests on (to `inner`, else the network) and appends each answer's body to a
    file, so the parse floor decodes the same bytes without holding them in the measured
    process's memory."""

    def __init__(self, path: Path, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.path = path
        self.inner = inner
        # Made here, before any phase is timed, with the process's one TLS context as the
        # product's clients use: building a context parses the CA bundle (tens of ms), which
        # would otherwise count in the first request of every phase.
        self._own = httpx.AsyncHTTPTransport(verify=shared_tls_context())
        self.timings: list[tuple[str, float]] = []

    def start(self) -> None:
        self.path.write_bytes(b"")
        #: (endpoint, seconds from sending the request to having read the answer)
        self.timings: list[tuple[str, float]] = []

    def webapi_seconds(self) -> float:
        """Wall time of the Steam Web API exchanges (GetItems, the store, left out)."""
        return sum(
            seconds
            for path, seconds in self.timings
            if path.startswith(("/ISteamUser/", "/IPlayerService/"))
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.inner or self._own
        started = time.perf_counter()
        response = await transport.handle_async_request(request)
        body = await response.aread()
        self.timings.append((request.url.path, time.perf_counter() - started))
        with self.path.open("ab") as handle:
            handle.write(struct.pack(">I", len(body)) + body)
        headers = [
            (key, value)
            for key, value in response.headers.multi_items()
            if key.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(response.status_code, headers=headers, content=body, request=request)

    async def aclose(self) -> None:
        # A stage's client closing it must not leave the next stage without one.
        own, self._own = self._own, httpx.AsyncHTTPTransport(verify=shared_tls_context())
        await own.aclose()
        if self.inner is not None:
            await self.inner.aclose()

    def bodies(self) -> list[bytes]:
        data = self.path.read_bytes() if self.path.exists() else b""
        found, at = [], 0
        while at < len(data):
            (size,) = struct.unpack(">I", data[at : at + 4])
            found.append(data[at + 4 : at + 4 + size])
            at += 4 + size
        return found


def _decoders() -> dict[str, Callable[[bytes], Any]]:
    """Every JSON decoder the environment (the lock file) holds."""
    import pydantic_core

    found: dict[str, Callable[[bytes], Any]] = {
        "json": json.loads,
        "pydantic_core": pydantic_core.from_json,
    }
    try:
        import orjson

        found["orjson"] = orjson.loads
    except ImportError:
        pass
    return found


def parse_floor(bodies: list[bytes]) -> tuple[float, str]:
    """(seconds, decoder): the fastest decoder's best of three over every JSON body."""
    jsons = [body for body in bodies if body[:1] in (b"{", b"[")]
    best: tuple[float, str] = (math.inf, "none")
    for name, decode in _decoders().items():
        for _ in range(3):
            started = time.perf_counter()
            for body in jsons:
                decode(body)
            best = min(best, (time.perf_counter() - started, name))
    return (0.0, "none") if not jsons else (round(best[0], 4), best[1])


def network_floor(requests: dict[str, dict[str, int]], latency: float) -> float:
    """Seconds the phase's requests need at least: Steam Web API calls in turn, GetItems calls
    in waves of 8, the Twitch token, then IGDB's requests at 4 a second."""
    steam = requests.get("steam", {})
    getitems = steam.get("GetItems", 0)
    webapi = sum(steam.values()) - getitems
    token = sum(requests.get("twitch", {}).values())
    igdb = sum(requests.get("igdb", {}).values())
    seconds = webapi * latency + math.ceil(getitems / GETITEMS_IN_FLIGHT) * latency
    seconds += token * latency
    if igdb:
        seconds += latency + (math.ceil(igdb / IGDB_PER_SECOND) - 1)
    return round(seconds, 4)


def _table(name: str) -> Table:
    return filtered_app_table if name == "filtered_app" else metadata.tables[name]


def written_rows(engine: Engine, since: datetime) -> Rows:
    """table → (columns, rows) of the rows the phase since `since` wrote (links: those of the
    games it wrote)."""
    found: Rows = {}
    with engine.connect() as connection:
        games = {
            row[0]
            for row in connection.execute(
                select(metadata.tables["Game"].c.id).where(
                    metadata.tables["Game"].c.updatedAt >= since
                )
            )
        }
        for name, stamp in WRITTEN:
            table = _table(name)
            if name == "filtered_app" and not engine.dialect.has_table(
                connection,
                table.name,
                schema=OWN_SCHEMA if engine.dialect.name == "postgresql" else None,
            ):
                continue
            query = select(table)
            if stamp is not None:
                query = query.where(table.c[stamp] >= since)
            rows = [tuple(row) for row in connection.execute(query)]
            if stamp is None:
                rows = [row for row in rows if row[0] in games]
            found[name] = ([column.name for column in table.columns], rows)
    return found


def database_floor(engine: Engine, rows: Rows, work: Path) -> float:
    """Seconds to write `rows` into an empty copy of their tables that checks the schema's
    foreign keys: PostgreSQL COPY in one transaction, or one SQLite executemany transaction
    into a new file (the rows they reference but the phase did not write put in first,
    untimed)."""
    if not any(found for _, found in rows.values()):
        return 0.0
    if engine.dialect.name == "postgresql":
        return _copy_postgresql(engine, rows)
    return _executemany_sqlite(rows, _parents(engine, rows), work / "floor.db")


#: A table's foreign keys as `ADD`-able definitions; a parent in `public` is named unqualified,
#: which `public` on the search path resolves to the live table.
_FOREIGN_KEYS = (
    "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
    " WHERE contype = 'f' AND conrelid = %s::regclass"
)


def _copy_postgresql(engine: Engine, rows: Rows) -> float:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("DROP SCHEMA IF EXISTS bench_floor CASCADE; CREATE SCHEMA bench_floor")
        for name in rows:
            source = f'{OWN_SCHEMA}."{name}"' if name == "filtered_app" else f'public."{name}"'
            cursor.execute(f'CREATE TABLE bench_floor."{name}" (LIKE {source} INCLUDING ALL)')
            # LIKE copies no foreign key; the schema's own are added, still referencing the
            # live tables (every parent row is there), so COPY checks each row as the import's
            # INSERTs must (GameGenre: two look-ups and row locks a link).
            cursor.execute(_FOREIGN_KEYS, (source,))
            for (definition,) in cursor.fetchall():
                cursor.execute(f'ALTER TABLE bench_floor."{name}" ADD {definition}')
        raw.commit()
        started = time.perf_counter()
        for name, (columns, found) in rows.items():
            names = ", ".join(f'"{column}"' for column in columns)
            with cursor.copy(f'COPY bench_floor."{name}" ({names}) FROM STDIN') as copy:  # type: ignore[attr-defined]
                for row in found:
                    copy.write_row(row)
        raw.commit()
        seconds = time.perf_counter() - started
        cursor.execute("DROP SCHEMA bench_floor CASCADE")
        raw.commit()
    finally:
        raw.close()
    return round(seconds, 4)


def _parents(engine: Engine, rows: Rows) -> Rows:
    """The rows the written ones reference but the phase did not write (the user, and on a
    re-import the games, genres and platforms stored before), so that a copy of the tables can
    check its foreign keys."""
    parents: Rows = {}
    with engine.connect() as connection:
        for name in PARENTS:
            table = metadata.tables[name]
            written = {row[0] for row in rows.get(name, ([], []))[1]}
            found = [tuple(row) for row in connection.execute(select(table))]
            parents[name] = (
                [column.name for column in table.columns],
                [row for row in found if row[0] not in written],
            )
    return parents


def _executemany_sqlite(rows: Rows, parents: Rows, path: Path) -> float:
    import sqlite3

    from sqlalchemy import create_engine

    path.unlink(missing_ok=True)
    copy = create_engine(f"sqlite:///{path}")
    metadata.create_all(copy)  # the app's tables, empty
    own = MetaData()
    filtered_app_table.to_metadata(own, schema=None)
    own.create_all(copy)
    copy.dispose()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        for statement, values in _inserts(parents):
            connection.executemany(statement, values)
        connection.execute("COMMIT")
        # As the pipeline's engine sets it (`lambdas.sql.engine`): each row's references checked.
        connection.execute("PRAGMA foreign_keys = ON")
        prepared = _inserts(rows)
        started = time.perf_counter()
        connection.execute("BEGIN")
        for statement, values in prepared:
            connection.executemany(statement, values)
        connection.execute("COMMIT")
        seconds = time.perf_counter() - started
    finally:
        connection.close()
        path.unlink(missing_ok=True)
    return round(seconds, 4)


def _inserts(rows: Rows) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """One SQLite INSERT and its rows per table of `rows`."""
    return [
        (
            f'INSERT INTO "{name}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) '
            f"VALUES ({', '.join('?' for _ in columns)})",
            [tuple(_sqlite_value(value) for value in row) for row in found],
        )
        for name, (columns, found) in rows.items()
    ]


def _sqlite_value(value: Any) -> Any:
    return value.isoformat(" ") if isinstance(value, datetime) else value
