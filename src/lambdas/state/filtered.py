"""Filtered apps and the user's `keep` overrides, in this project's own state (never the app's
tables): what stage 3 left out, with kind and reason, and the apps the user made games."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    Table,
    Text,
    delete,
    exists,
    insert,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from lambdas.models.rows import EnrichedGameRow, RawGameRow
from lambdas.sql.dialect import Dialect, Spec
from lambdas.state.schema import own_state_metadata, own_tables_exist

log = structlog.get_logger()

KEEP = "keep"
_RAW_FIELDS: set[str] = set(RawGameRow.model_fields)  # never changed
_FILTERED_SPEC: Spec = [
    ("app_id", BigInteger()),
    ("name", Text()),
    ("kind", Text()),
    ("reason", Text()),
    ("steam_type", Integer()),
    ("raw", Text()),
]

filtered_app_table = Table(
    "filtered_app",
    own_state_metadata,
    Column("user_id", Text, primary_key=True),
    Column("app_id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("steam_type", Integer),
    Column("raw", Text, nullable=False, comment="the raw row as JSON, so `keep` can import it"),
    Column("recorded_at", DateTime, nullable=False),
    comment="Apps stage 3 left out as non-games, per user, with the reason",
)

app_override_table = Table(
    "app_override",
    own_state_metadata,
    Column("user_id", Text, primary_key=True),
    Column("app_id", BigInteger, primary_key=True, autoincrement=False),
    Column("decision", Text, nullable=False, comment="keep: a game from now on"),
    Column("created_at", DateTime, nullable=False),
    comment="The user's own verdicts on apps, applied by every later import",
)


@dataclass(frozen=True, slots=True)
class FilteredApp:
    app_id: int
    name: str
    kind: str
    reason: str
    steam_type: int | None
    raw: RawGameRow
    recorded_at: datetime


def has_own_tables(connection: Connection) -> bool:
    """Whether this project's filtered-app tables exist (`steam-import db own-state` makes them)."""
    return own_tables_exist(connection, [filtered_app_table])


def filtered_record(row: EnrichedGameRow) -> dict[str, Any]:
    """The filtered-list entry of one FILTERED row, as `record_filtered_apps` writes it: made
    as the rows stream in, so a library's thousands of non-game rows are not kept as models
    (3.7 kB each, 23 MB for 6,000) until the end of the import."""
    return {
        "app_id": row.appid,
        "name": row.name,
        "kind": row.kind.value,
        "reason": row.reason or row.classifier_rule,
        "steam_type": row.steam_type,
        # The row's own serializer for the fields it shares with RawGameRow (the same text
        # as a RawGameRow of them, which `list_filtered` reads back, without validating again).
        "raw": row.model_dump_json(include=_RAW_FIELDS),
    }


def record_filtered_apps(
    connection: Connection,
    user_id: str,
    records: list[dict[str, Any]],
    *,
    now: datetime | None = None,
    only: Iterable[int] | None = None,
) -> int:
    """Record this import's FILTERED rows (their `filtered_record`s) as the user's filtered
    apps, in the caller's transaction; how many were recorded.

    The list is replaced by today's (an app that is a game now is no longer listed), minus the
    apps the user kept. With `only` (the apps of an import that sent only what changed), just
    those apps' entries are replaced and the others stay. The same few statements whatever the
    library size. Without this project's own tables (a database `db own-state` never ran on)
    nothing is recorded, with a warning.
    """
    if not has_own_tables(connection):
        log.warning("database.filtered_not_recorded", reason="own-state tables missing")
        return 0
    stamp = (now or datetime.now(UTC)).replace(tzinfo=None)
    table = filtered_app_table.c
    dialect = Dialect.for_connection(connection)
    if only is None:
        connection.execute(delete(filtered_app_table).where(table.user_id == user_id))
    else:
        sent = dialect.recordset([("app_id", BigInteger())], name="sent")
        connection.execute(
            delete(filtered_app_table).where(
                table.user_id == user_id, table.app_id.in_(select(sent.c.app_id))
            ),
            dialect.records_param([{"app_id": app_id} for app_id in only], sent),
        )
    # One statement over a JSON record set, as the loader's: the count stays the same for 20 or
    # 20,000 filtered apps.
    r = dialect.recordset(_FILTERED_SPEC)
    connection.execute(
        insert(filtered_app_table).from_select(
            ["user_id", *(name for name, _ in _FILTERED_SPEC), "recorded_at"],
            select(
                literal(user_id, Text),
                *(r.c[name] for name, _ in _FILTERED_SPEC),
                literal(stamp, DateTime),
            ),
        ),
        dialect.records_param(records, r),
    )
    kept = app_override_table.c
    connection.execute(
        delete(filtered_app_table).where(
            table.user_id == user_id,
            exists().where(
                kept.user_id == table.user_id,
                kept.app_id == table.app_id,
                kept.decision == KEEP,
            ),
        )
    )
    log.debug("database.filtered_recorded", apps=len(records))
    return len(records)


def list_filtered(connection: Connection, user_id: str) -> list[FilteredApp]:
    """The user's filtered apps, by kind then name."""
    table = filtered_app_table.c
    rows = connection.execute(
        select(filtered_app_table)
        .where(table.user_id == user_id)
        .order_by(table.kind, table.name, table.app_id)
    )
    return [
        FilteredApp(
            app_id=row.app_id,
            name=row.name,
            kind=row.kind,
            reason=row.reason,
            steam_type=row.steam_type,
            raw=RawGameRow.model_validate_json(row.raw),
            recorded_at=row.recorded_at,
        )
        for row in rows
    ]


def kept_app_ids(connection: Connection, user_id: str) -> frozenset[int]:
    """The apps the user made games with `keep`."""
    table = app_override_table.c
    found = connection.execute(
        select(table.app_id).where(table.user_id == user_id, table.decision == KEEP)
    ).scalars()
    return frozenset(found)


def keep_app(
    connection: Connection, user_id: str, app_id: int, *, now: datetime
) -> FilteredApp | None:
    """Make the app a game for the user from now on; its filtered record (None when the app was
    not filtered), which is removed from the list."""
    table = filtered_app_table.c
    found = [app for app in list_filtered(connection, user_id) if app.app_id == app_id]
    upsert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = upsert(app_override_table).values(
        user_id=user_id, app_id=app_id, decision=KEEP, created_at=now.replace(tzinfo=None)
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=[app_override_table.c.user_id, app_override_table.c.app_id],
            set_={"decision": KEEP},
        )
    )
    connection.execute(
        delete(filtered_app_table).where(table.user_id == user_id, table.app_id == app_id)
    )
    return found[0] if found else None
