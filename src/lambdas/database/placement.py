"""Which of a user's Steam apps were already placed in the library: an import adds a
LibraryItem for an app once, and never again after the user removed it.

The record is this project's own state (`lambdas.state.placement`): one row per (user, app)
placed, by an import (`owned`, `wishlist`) or on the user's request (`link`, `keep`).

An app also counts as placed when its live ImportedGame row was MATCHED before this import: a game
that reached the library (by this pipeline in `library` mode, by `link`, or by the app's own
import, which sets MATCHED when it adds the item). That covers users imported before the record
existed, and databases without this project's own tables (`db own-state` not run), where it is
the whole rule. Curate mode leaves new matches PENDING, so they are not placed until the user, or
a later `library` import, adds them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, DateTime, Text, and_, cast, literal, select
from sqlalchemy.sql import CompoundSelect, Select

from lambdas.database.upserts import Writer, _among, _enum_value
from lambdas.models.app_enums import IgdbMatchStatus, Storefront
from lambdas.sql.dialect import Record, Spec
from lambdas.state.placement import OWNED, WISHLIST, placement_table

_APPS: Spec = [("app_id", BigInteger())]
_SENT: Spec = [("storefrontGameId", Text())]


def already_placed(w: Writer, records: list[Record], *, recorded: bool) -> frozenset[str]:
    """Which apps of `records` (their `storefrontGameId`, ImportedGame's text) the user had
    placed in the library as owned games before this import: MATCHED live ImportedGame rows, and
    with `recorded` the placement record's owned, linked and kept apps. One statement, read
    before the ImportedGame upsert changes any status, and only about the apps of `records`
    (a re-import that sends 1,500 changed apps does not read a 20,000-game library's ids). An app
    placed only as a wishlist item is not among them: bought, it is owned for the first time."""
    imported = w.tables.imported
    r = w.dialect.recordset(_SENT, name="sent")
    sent = select(r.c.storefrontGameId)
    matched = _enum_value(imported.c.igdbMatchStatus, IgdbMatchStatus.MATCHED.value)
    matched_apps = select(imported.c.storefrontGameId).where(
        imported.c.userId == w.owner,
        imported.c.storefront == _enum_value(imported.c.storefront, Storefront.STEAM.value),
        imported.c.igdbMatchStatus == matched,
        imported.c.deletedAt.is_(None),
        imported.c.storefrontGameId.is_not(None),
        _among(imported.c.storefrontGameId, sent),
    )
    stmt: Select[Any] | CompoundSelect[Any] = matched_apps
    if recorded:
        placed = placement_table.c
        stmt = matched_apps.union(
            select(cast(placed.app_id, Text)).where(
                placed.user_id == w.owner,
                placed.source != WISHLIST,
                _among(placed.app_id, select(cast(r.c.storefrontGameId, BigInteger))),
            )
        )
    apps = [{"storefrontGameId": record["storefrontGameId"]} for record in records]
    found = w.run(stmt, r, apps).scalars()
    return frozenset(app for app in found if app is not None)


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
    w.run(stmt, r, apps)


def wishlist_placements(w: Writer, app_ids: list[int]) -> dict[int, tuple[str, int | None]]:
    """The placement record's (source, library item id) of each of `app_ids` placed before."""
    r = w.dialect.recordset(_APPS)
    placed = placement_table.c
    stmt = (
        select(placed.app_id, placed.source, placed.library_item_id)
        .select_from(r)
        .join(placement_table, and_(placed.user_id == w.owner, placed.app_id == r.c.app_id))
    )
    found = w.run(stmt, r, [{"app_id": app_id} for app_id in app_ids])
    return {int(row.app_id): (row.source, row.library_item_id) for row in found}


__all__ = ["already_placed", "record_owned", "wishlist_placements"]
