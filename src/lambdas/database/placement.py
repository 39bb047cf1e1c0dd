"""Which of a user's Steam apps were already placed in the library: an import adds a
LibraryItem for an app once, and never again after the user removed it.

The record is this project's own state (`steam_import.library_placement`): one row per (user, app)
placed, by an import (`owned`, `wishlist`) or on the user's request (`link`, `keep`). A row of a
`wishlist` item the import created keeps that item's id, status and `updatedAt` as written, so a
bought game's untouched item can be promoted (`lambdas.database.wishlist`).

An app also counts as placed when its live ImportedGame row was MATCHED before this import: a game
that reached the library (by this pipeline in `library` mode, by `link`, or by the app's own
import, which sets MATCHED when it adds the item). That covers users imported before the record
existed, and databases without this project's own tables (`db own-state` not run), where it is
the whole rule. Curate mode leaves new matches PENDING, so they are not placed until the user, or
a later `library` import, adds them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    Table,
    Text,
    and_,
    cast,
    literal,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import CompoundSelect, Select

from lambdas.database.dialect import Dialect, Record, Spec, records_param
from lambdas.database.own_state import own_state_metadata, own_tables_exist
from lambdas.database.upserts import Writer, _enum_value
from lambdas.models.app_enums import IgdbMatchStatus, Storefront

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

_APPS: Spec = [("app_id", BigInteger())]


def has_placements(connection: Connection) -> bool:
    """Whether the placement record exists (`db upgrade` / `db own-state` make it)."""
    return own_tables_exist(connection, [placement_table])


def already_placed(w: Writer, *, recorded: bool) -> frozenset[str]:
    """The user's app ids (as ImportedGame.storefrontGameId text) placed in the library as owned
    games before this import: MATCHED live ImportedGame rows, and with `recorded` the placement
    record's owned, linked and kept apps. One statement, read before the ImportedGame upsert
    changes any status. An app placed only as a wishlist item is not among them: bought, it is
    owned for the first time."""
    imported = w.tables.imported
    matched = _enum_value(imported.c.igdbMatchStatus, IgdbMatchStatus.MATCHED.value)
    matched_apps = select(imported.c.storefrontGameId).where(
        imported.c.userId == w.owner,
        imported.c.storefront == _enum_value(imported.c.storefront, Storefront.STEAM.value),
        imported.c.igdbMatchStatus == matched,
        imported.c.deletedAt.is_(None),
    )
    stmt: Select[Any] | CompoundSelect[Any] = matched_apps
    if recorded:
        placed = placement_table.c
        stmt = matched_apps.union(
            select(cast(placed.app_id, Text)).where(
                placed.user_id == w.owner, placed.source != WISHLIST
            )
        )
    return frozenset(app for app in w.connection.execute(stmt).scalars() if app is not None)


def record_owned(w: Writer, records: list[Record]) -> None:
    """Record the apps of `records` (their `storefrontGameId`) as placed owned games: the
    library now has their game, by this import or by the user. One statement; an app placed
    before keeps its row, except that a wishlist placement becomes an owned one."""
    apps = [{"app_id": int(record["storefrontGameId"])} for record in records]
    r = w.dialect.recordset(_APPS)
    placed = placement_table.c
    stmt = w.dialect.insert(placement_table).from_select(
        ["user_id", "app_id", "source", "placed_at"],
        select(w.owner, r.c.app_id, literal(OWNED, Text), literal(w.now, DateTime))
        .distinct()
        .where(r.c.app_id.is_not(None)),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[placed.user_id, placed.app_id],
        set_={"source": OWNED},
        where=placement_table.c.source == WISHLIST,
    )
    w.run(stmt, apps)


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


def wishlist_placements(w: Writer, app_ids: list[int]) -> dict[int, tuple[str, int | None]]:
    """The placement record's (source, library item id) of each of `app_ids` placed before."""
    r = w.dialect.recordset(_APPS)
    placed = placement_table.c
    stmt = (
        select(placed.app_id, placed.source, placed.library_item_id)
        .select_from(r)
        .join(placement_table, and_(placed.user_id == w.owner, placed.app_id == r.c.app_id))
    )
    found = w.run(stmt, [{"app_id": app_id} for app_id in app_ids])
    return {int(row.app_id): (row.source, row.library_item_id) for row in found}


__all__ = [
    "KEEP",
    "LINK",
    "OWNED",
    "WISHLIST",
    "already_placed",
    "has_placements",
    "placement_table",
    "record_on_request",
    "record_owned",
    "records_param",
    "wishlist_placements",
]
