"""Stage 3 of the wishlist: matched wishlisted games the user does not own become LibraryItems with
the live enum's wishlist status, once; a bought game's untouched item is promoted; the user's
wishlist with each app's decision is kept in this project's own state.

Wishlisted apps are never ImportedGame rows (the user does not own them). What the import created
for them is recorded in the placement record (`lambdas.database.placement`), so it is added once,
never re-added after the user removed it, and promoted only while nobody touched it. Without this
project's own tables (an app database before `db own-state`) nothing of the wishlist is written:
an item could be neither remembered nor promoted safely. Items are never deleted: a game the user
takes off the wishlist on Steam may have been put in the library by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    String,
    Text,
    and_,
    cast,
    delete,
    insert,
    literal,
    literal_column,
    select,
    update,
)

from lambdas.database.payloads import Record, unix_to_timestamp
from lambdas.database.placement import wishlist_placements
from lambdas.database.profiles import ImportMode, ProfileName, StatusRule
from lambdas.database.upserts import Writer
from lambdas.models.rows import EnrichedWishlistRow, MatchStatus
from lambdas.sql.dialect import Spec
from lambdas.state.placement import (
    WISHLIST,
    has_wishlist_state,
    placement_table,
    wishlist_app_table,
)

log = structlog.get_logger()

ADDED = "added"  # the import created its WISHLIST item (this run or earlier), still there
IN_LIBRARY = "in library"  # the user's library already had the game
REMOVED = "removed by user"  # placed before, its item gone: never re-added
NOT_ADDED = "not added"  # curate mode, or the live enum has no wishlist status
OWNED = "owned"  # the user owns the app: the owned import has it
UNMATCHED = "unmatched"
FILTERED = "filtered"

_ROW_SPEC: Spec = [
    ("app_id", BigInteger()),
    ("name", Text()),
    ("priority", Integer()),
    ("date_added", DateTime()),
    ("decision", Text()),
    ("igdb_id", Integer()),
]
_ITEM_SPEC: Spec = [("igdbId", Integer()), ("storefrontGameId", Text())]


@dataclass
class WishlistWrite:
    """What stage 3 did with the wishlist (counts per app)."""

    created: int = 0
    in_library: int = 0
    removed: int = 0
    not_written: int = 0
    promoted: int = 0
    reason: str | None = None
    decisions: dict[int, str] = field(default_factory=dict)


def write_wishlist(
    w: Writer,
    wishes: Sequence[EnrichedWishlistRow],
    *,
    items: list[Record],
    owned_items: list[Record],
    mode: ImportMode,
    rule: StatusRule,
    library_platform: str | None,
    catalogue_verified: bool = True,
) -> WishlistWrite:
    """Write the wishlist's part of an import, after the owned games and their Game rows.

    `items` are the LibraryItem records of the matched wishlisted games the user does not own
    (built only when they may be written); `owned_items` the owned games' records, whose status
    (the app's smart rule) a bought game's untouched WISHLIST item is promoted to.
    """
    wanted = [row for row in wishes if not row.owned and row.match_status is MatchStatus.MATCHED]
    done = WishlistWrite()
    if not has_wishlist_state(w.connection):
        if wanted:
            done.not_written = len(wanted)
            done.reason = "this project's own tables are missing: run `steam-import db own-state`"
            log.warning("database.wishlist_not_written", apps=len(wanted), reason=done.reason)
        return done
    writes = mode is ImportMode.LIBRARY and rule.wishlist is not None and catalogue_verified
    if writes:
        done.promoted = _promote(w, owned_items)
        _place(w, items, rule.wishlist or "", library_platform, done)
    else:
        done.reason = (
            "curate mode"
            if mode is ImportMode.CURATE
            else "the live enum has no wishlist status"
            if rule.wishlist is None
            else "the enriched CSV is not signed: no shared Game rows"
        )
        for row in wanted:
            done.decisions[row.appid] = NOT_ADDED
        done.not_written = len(wanted)
    _record(w, wishes, done.decisions)
    return done


def _promote(w: Writer, owned_items: list[Record]) -> int:
    """Move the WISHLIST items this project created for games the user now owns to the owned
    status, where the user has not touched them: still the status we wrote, `updatedAt` as we
    wrote it, and (today's app) `statusIsManual` false. Two statements; how many promoted."""
    item, placed = w.tables.library, placement_table.c
    spec: Spec = [("storefrontGameId", Text()), ("status", Text())]
    r = w.dialect.recordset(spec)
    untouched = [
        placed.user_id == w.owner,
        placed.source == WISHLIST,
        placed.app_id == cast(r.c.storefrontGameId, BigInteger),
        item.c.id == placed.library_item_id,
        item.c.userId == w.owner,
        item.c.status == cast(placed.item_status, item.c.status.type),
        item.c.updatedAt == placed.item_updated_at,
    ]
    if w.tables.profile.name is ProfileName.SAVEPOINT_2026:
        untouched.append(literal_column('"LibraryItem"."statusIsManual"', Boolean).is_(False))
    stmt = (
        update(item)
        .values(status=cast(r.c.status, item.c.status.type), updatedAt=w.stamp())
        .where(*untouched)
        .returning(item.c.id)
    )
    records = [
        {"storefrontGameId": record["storefrontGameId"], "status": record["status"]}
        for record in owned_items
    ]
    promoted = sorted(set(w.run(stmt, r, records).scalars()))
    id_spec: Spec = [("id", Integer())]
    ids = w.dialect.recordset(id_spec, name="ids")
    w.run(
        update(placement_table)
        .values(source="owned", item_updated_at=w.stamp())
        .where(
            placed.user_id == w.owner,
            placed.library_item_id.in_(select(ids.c.id)),
        ),
        ids,
        [{"id": item_id} for item_id in promoted],
    )
    return len(promoted)


def _place(
    w: Writer,
    items: list[Record],
    status: str,
    library_platform: str | None,
    done: WishlistWrite,
) -> None:
    """Create the WISHLIST items of matched wishlisted games placed never before and not in the
    library, and record every such app as placed; decide each app. Four statements."""
    apps = {int(record["storefrontGameId"]): record["igdbId"] for record in items}
    placements = wishlist_placements(w, list(apps))
    game, item = w.tables.game, w.tables.library
    r = w.dialect.recordset(_ITEM_SPEC)
    found = w.run(
        select(r.c.storefrontGameId, game.c.id.label("game_id"), item.c.id.label("item_id"))
        .select_from(r)
        .join(game, game.c.igdbId == r.c.igdbId)
        .outerjoin(item, and_(item.c.userId == w.owner, item.c.gameId == game.c.id)),
        r,
        [{"igdbId": igdb, "storefrontGameId": str(app)} for app, igdb in apps.items()],
    ).all()
    games: dict[int, str] = {}
    held: dict[int, set[int]] = {}
    for row in found:
        app = int(row.storefrontGameId)
        games[app] = row.game_id
        if row.item_id is not None:
            held.setdefault(app, set()).add(int(row.item_id))
    create: dict[str, list[int]] = {}
    already: list[int] = []
    for app in apps:
        if app not in games:
            continue  # no Game row (cannot happen after the upsert; never guessed)
        placed = placements.get(app)
        mine = held.get(app, set())
        if placed is not None:
            source, item_id = placed
            kept = source == WISHLIST and item_id in mine
            done.decisions[app] = ADDED if kept else IN_LIBRARY if mine else REMOVED
        elif mine:
            done.decisions[app] = IN_LIBRARY
            already.append(app)
        else:
            create.setdefault(games[app], []).append(app)
    made = _insert_items(w, list(create), status, library_platform)
    placed_now: list[Record] = [
        {"app_id": app, "library_item_id": None, "item_status": None} for app in already
    ]
    for game_id, item_id in made.items():
        for app in create[game_id]:
            done.decisions[app] = ADDED
            placed_now.append({"app_id": app, "library_item_id": item_id, "item_status": status})
    _record_placed(w, placed_now)
    done.created = sum(len(create[game_id]) for game_id in made)
    # In the library already: added by an earlier import, or put there by the user.
    done.in_library = sum(d in (ADDED, IN_LIBRARY) for d in done.decisions.values()) - done.created
    done.removed = sum(d == REMOVED for d in done.decisions.values())


def _insert_items(
    w: Writer, game_ids: list[str], status: str, library_platform: str | None
) -> dict[str, int]:
    """One LibraryItem per game of `game_ids` the user still has none of: {game id: item id}."""
    item = w.tables.library
    game_spec: Spec = [("gameId", Text())]
    g = w.dialect.recordset(game_spec, name="g")
    has_item = select(item.c.gameId).where(item.c.userId == w.owner, item.c.gameId.is_not(None))
    source = (
        select(
            cast(literal(status, String), item.c.status.type),
            w.stamp(),
            literal(library_platform, Text),
            w.owner,
            g.c.gameId,
        )
        .distinct()
        .where(g.c.gameId.not_in(has_item))
    )
    stmt = (
        w.dialect.insert(item)
        .from_select(["status", "updatedAt", "platform", "userId", "gameId"], source)
        .returning(item.c.id, item.c.gameId)
    )
    made = w.run(stmt, g, [{"gameId": gid} for gid in game_ids])
    return {row.gameId: int(row.id) for row in made}


def _record_placed(w: Writer, placed_now: list[Record]) -> None:
    spec: Spec = [
        ("app_id", BigInteger()),
        ("library_item_id", Integer()),
        ("item_status", Text()),
    ]
    p = w.dialect.recordset(spec, name="p")
    stmt = w.dialect.insert(placement_table).from_select(
        [
            "user_id",
            "app_id",
            "source",
            "library_item_id",
            "item_status",
            "item_updated_at",
            "placed_at",
        ],
        select(
            w.owner,
            p.c.app_id,
            literal(WISHLIST, Text),
            p.c.library_item_id,
            p.c.item_status,
            literal(w.now, DateTime),
            literal(w.now, DateTime),
        ).where(p.c.app_id.is_not(None)),
    )
    stmt = stmt.on_conflict_do_nothing(
        index_elements=[placement_table.c.user_id, placement_table.c.app_id]
    )
    w.run(stmt, p, placed_now)


def _record(w: Writer, wishes: Sequence[EnrichedWishlistRow], decisions: dict[int, str]) -> None:
    """Replace the user's recorded wishlist with today's, each app with its decision."""
    table = wishlist_app_table.c
    w.connection.execute(delete(wishlist_app_table).where(table.user_id == w.user_id))
    records = [
        {
            "app_id": row.appid,
            "name": row.name or row.igdb_name or "",
            "priority": row.priority,
            "date_added": unix_to_timestamp(row.date_added),
            "decision": _decision(row, decisions),
            "igdb_id": row.igdb_id,
        }
        for row in {row.appid: row for row in wishes}.values()
    ]
    r = w.dialect.recordset(_ROW_SPEC, name="wl")
    w.run(
        insert(wishlist_app_table).from_select(
            ["user_id", *(name for name, _ in _ROW_SPEC), "recorded_at"],
            select(
                w.owner,
                *(r.c[name] for name, _ in _ROW_SPEC),
                literal(w.now, DateTime),
            ),
        ),
        r,
        records,
    )


def _decision(row: EnrichedWishlistRow, decisions: dict[int, str]) -> str:
    if row.owned:
        return OWNED
    if row.match_status is MatchStatus.FILTERED:
        return FILTERED
    if row.match_status is MatchStatus.UNMATCHED:
        return UNMATCHED
    return decisions.get(row.appid, NOT_ADDED)


__all__ = ["WishlistWrite", "write_wishlist"]
