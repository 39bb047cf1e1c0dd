"""Which (user, Steam app) pairs were placed in the library, and the user's wishlist as the
latest import saw it: this project's own state, never the app's tables.

`library_placement` is the source of truth of "an import adds a library item for a game once":
one row per (user, app) placed, by an import (`owned`, `wishlist`) or on the user's request
(`link`, `keep`). The row of a WISHLIST item an import created keeps that item's id, status and
`updatedAt` as written, so a bought game's untouched item can be promoted. `wishlist_app` is the
user's latest wishlist, each app with stage 3's decision (`steam-import wishlist`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, Integer, Table, Text, select
from sqlalchemy.engine import Connection

from lambdas.sql.dialect import Dialect
from lambdas.state.schema import own_state_metadata, own_tables_exist

OWNED, WISHLIST, LINK, KEEP = "owned", "wishlist", "link", "keep"

placement_table = Table(
    "library_placement",
    own_state_metadata,
    Column("user_id", Text, primary_key=True),
    Column("app_id", BigInteger, primary_key=True, autoincrement=False),
    Column("source", Text, nullable=False, comment="owned, wishlist, link or keep"),
    Column("library_item_id", Integer, comment="a WISHLIST item the import created"),
    Column("item_status", Text, comment="that item's status as the import wrote it"),
    Column("item_updated_at", DateTime, comment='that item\'s "updatedAt" as written'),
    Column("placed_at", DateTime, nullable=False),
    comment="The (user, Steam app) pairs an import or the user placed in the library",
)

wishlist_app_table = Table(
    "wishlist_app",
    own_state_metadata,
    Column("user_id", Text, primary_key=True),
    Column("app_id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("date_added", DateTime),
    Column("decision", Text, nullable=False, comment="added, in library, removed by user, …"),
    Column("igdb_id", Integer),
    Column("recorded_at", DateTime, nullable=False),
    comment="The user's Steam wishlist as the latest import saw it, with each app's decision",
)


def has_placements(connection: Connection) -> bool:
    """Whether the placement record exists (`db upgrade` / `db own-state` make it)."""
    return own_tables_exist(connection, [placement_table])


def has_wishlist_state(connection: Connection) -> bool:
    return own_tables_exist(connection, [wishlist_app_table, placement_table])


def record_on_request(
    connection: Connection, user_id: str, app_id: int, *, source: str, now: datetime
) -> None:
    """`link` or `keep` placed the app in the library because the user asked (nothing is
    recorded on a database without the placement record)."""
    if not has_placements(connection):
        return
    dialect = Dialect.for_connection(connection)
    stmt = dialect.insert(placement_table).values(
        user_id=user_id, app_id=app_id, source=source, placed_at=now.replace(tzinfo=None)
    )
    connection.execute(
        stmt.on_conflict_do_update(
            index_elements=[placement_table.c.user_id, placement_table.c.app_id],
            set_={"source": source},
        )
    )


@dataclass(frozen=True, slots=True)
class WishlistedApp:
    app_id: int
    name: str
    priority: int
    date_added: datetime | None
    decision: str
    igdb_id: int | None


def list_wishlist(connection: Connection, user_id: str) -> list[WishlistedApp]:
    """The user's wishlist as the latest import recorded it, by priority."""
    table = wishlist_app_table.c
    rows = connection.execute(
        select(wishlist_app_table)
        .where(table.user_id == user_id)
        .order_by(table.priority, table.app_id)
    )
    return [
        WishlistedApp(
            app_id=int(row.app_id),
            name=row.name,
            priority=int(row.priority),
            date_added=row.date_added,
            decision=row.decision,
            igdb_id=row.igdb_id,
        )
        for row in rows
    ]
