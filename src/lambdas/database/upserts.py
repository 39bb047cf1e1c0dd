"""The set-based SQL of stage 3: a constant number of statements per table, in every profile.

No unique index is assumed where the app has none (ImportedGame, LibraryItem on (userId, gameId)):
those are written with UPDATE … FROM a record set, then INSERT … SELECT … WHERE NOT EXISTS, under
the per-user lock the loader holds. ON CONFLICT is used only on the app's own unique indexes
(Game, Genre and Platform `igdbId`, the link tables' primary keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import FromClause

from lambdas.database.tables import TIMESTAMP3, AppTables
from lambdas.models.app_enums import IgdbMatchStatus, Storefront
from lambdas.sql.dialect import Dialect, Record, Spec


@dataclass(frozen=True)
class Writer:
    """One import's connection, tables, dialect, time and user: what every statement needs."""

    connection: Connection
    tables: AppTables
    dialect: Dialect
    now: datetime
    user_id: str

    @property
    def owner(self) -> ColumnElement[str]:
        return literal(self.user_id, Text)

    def stamp(self) -> ColumnElement[datetime]:
        return literal(self.now, TIMESTAMP3)

    def run(self, statement: Any, source: FromClause, records: list[Record]) -> Any:
        """Execute `statement` with `records` as the rows of its record set `source`."""
        return self.connection.execute(statement, self.dialect.records_param(records, source))


def _changed(table: Table, values: dict[str, ColumnElement[Any]]) -> ColumnElement[bool]:
    return or_(*(table.c[name].is_distinct_from(value) for name, value in values.items()))


def _enum_value(target: Any, value: str) -> ColumnElement[Any]:
    """`value` cast to the enum type of column `target` (PostgreSQL will not compare text)."""
    return cast(literal(value, String), target.type)


def _greatest(old: ColumnElement[Any], new: ColumnElement[Any]) -> ColumnElement[Any]:
    """The larger of two values, a NULL losing to any value (the same SQL on both databases)."""
    return case((old.is_(None), new), (new.is_(None), old), (old >= new, old), else_=new)


_TEXT, _INT = Text(), Integer()
_IMPORTED_BASE: Spec = [
    ("id", _TEXT),
    ("name", _TEXT),
    ("storefrontGameId", _TEXT),
    ("playtime", _INT),
    ("img_icon_url", _TEXT),
    ("igdbMatchStatus", _TEXT),
]
_IMPORTED_OPTIONAL: dict[str, Any] = {
    "lastPlayedAt": TIMESTAMP3,
    "playtimeWindows": _INT,
    "playtimeMac": _INT,
    "playtimeLinux": _INT,
}
#: Steam's totals only grow: a lower value is a partial or bad answer, so the stored one stays.
_NEVER_BACKWARDS = frozenset({"playtime", *_IMPORTED_OPTIONAL})


def _imported_spec(tables: AppTables) -> Spec:
    present = [
        (name, kind) for name, kind in _IMPORTED_OPTIONAL.items() if name in tables.imported.c
    ]
    return [*_IMPORTED_BASE, *present]


def _steam_rows_of(w: Writer, table: FromClause, app_id: ColumnElement[Any]) -> list[Any]:
    return [
        table.c.userId == w.owner,
        table.c.storefront == _enum_value(table.c.storefront, Storefront.STEAM.value),
        table.c.storefrontGameId == app_id,
    ]


def _ignored_name(w: Writer, name: ColumnElement[Any]) -> ColumnElement[bool] | None:
    """`name` is on the user's blocklist (see `_not_among` for why IN, not EXISTS)."""
    ignored = w.tables.ignored
    if ignored is None:
        return None
    return name.in_(select(ignored.c.name).where(ignored.c.userId == w.owner))


def _not_among(value: ColumnElement[Any], stored: Any) -> ColumnElement[bool]:
    """`value` is not among the non-NULL values `stored` selects.

    Written as NOT IN, not NOT EXISTS, on purpose: PostgreSQL runs it as one hashed subplan
    whatever its statistics say. Right after a bulk insert the statistics still count the user's
    rows as a handful, and an anti-join planned on them compares every record with every row
    (20,000 × 20,000: 21 s measured). The NULL filter keeps NOT IN's NULL rule out of play.
    """
    column = stored.selected_columns[0]
    return value.not_in(stored.where(column.is_not(None)))


def _among(value: ColumnElement[Any], stored: Any) -> ColumnElement[bool]:
    """`value` (never NULL) is among the non-NULL values `stored` selects.

    Written as ``(value NOT IN (…)) IS FALSE``, not IN or EXISTS, for `_not_among`'s reason: a
    plain IN becomes a semi-join planned on the statistics, and right after a bulk insert they
    count the user's 20,000 rows as one, so each row was compared with every record (1,500
    changes of a 20,000-game library: 25 million comparisons, 3 s). NOT IN stays one hashed
    subplan; with NULLs kept out of both sides, "NOT IN is false" is exactly "IN".
    """
    return _not_among(value, stored).is_(false())


def count_backwards(w: Writer, records: list[Record]) -> tuple[int, int]:
    """(stored live Steam rows of the user, records that would lower a stored playtime or
    last-played time): one statement, before any write."""
    imported = w.tables.imported
    spec = [(name, kind) for name, kind in _imported_spec(w.tables) if name in _NEVER_BACKWARDS]
    r = w.dialect.recordset([("storefrontGameId", _TEXT), *spec])
    live = and_(
        imported.c.userId == w.owner,
        imported.c.storefront == _enum_value(imported.c.storefront, Storefront.STEAM.value),
        imported.c.deletedAt.is_(None),
    )
    lower = or_(*(r.c[name] < imported.c[name] for name, _ in spec))
    stored = select(func.count()).select_from(imported).where(live).scalar_subquery()
    lowered = (
        select(func.count())
        .select_from(r)
        .join(imported, and_(live, imported.c.storefrontGameId == r.c.storefrontGameId))
        .where(lower)
        .scalar_subquery()
    )
    found = w.run(select(stored, lowered), r, records).one()
    return int(found[0]), int(found[1])


def upsert_imported_games(
    w: Writer, records: list[Record], *, any_stored: bool = True
) -> tuple[list[str], list[str]]:
    """Update the user's live Steam ImportedGame rows, then insert the apps the user has no row
    for; returns (created ids, updated ids).

    Untouched: soft-deleted rows (and no twin is added beside one: whoever set deletedAt meant
    it), rows whose values would not change, and apps whose name the user blocklisted. Kept:
    IGNORED stays IGNORED and MATCHED stays MATCHED (a manual link survives a run that could not
    match); playtimes and last-played never move backwards; a NULL icon never erases one.

    `any_stored` False (`count_backwards` found no live Steam row of the user, under the
    import's lock): the UPDATE has no row to touch, so it runs over an empty record set instead
    of unpacking every record for nothing (a first import: 14,000 records, 4 MB of JSON).
    """
    spec = _imported_spec(w.tables)
    names = [name for name, _ in spec]
    updated = _update_imported(w, records if any_stored else [], names)
    created = _insert_imported(w, records, w.dialect.recordset(spec), names)
    return created, updated


def _update_imported(w: Writer, records: list[Record], names: list[str]) -> list[str]:
    imported = w.tables.imported
    r = w.dialect.recordset(_imported_spec(w.tables))
    kept = [_enum_value(imported.c.igdbMatchStatus, s) for s in ("IGNORED", "MATCHED")]
    status = case(
        (imported.c.igdbMatchStatus.in_(kept), imported.c.igdbMatchStatus),
        else_=cast(r.c.igdbMatchStatus, imported.c.igdbMatchStatus.type),
    )
    values: dict[str, ColumnElement[Any]] = {"name": r.c.name, "igdbMatchStatus": status}
    for name in names:
        if name in _NEVER_BACKWARDS:
            values[name] = _greatest(imported.c[name], r.c[name])
    values["img_icon_url"] = func.coalesce(r.c.img_icon_url, imported.c.img_icon_url)
    stmt = (
        update(imported)
        .values(**values, updatedAt=w.stamp())
        .where(
            *_steam_rows_of(w, imported, r.c.storefrontGameId),
            imported.c.deletedAt.is_(None),
            _changed(imported, values),
        )
        .returning(imported.c.id)
    )
    return list(w.run(stmt, r, records).scalars())


def _insert_imported(
    w: Writer, records: list[Record], r: FromClause, names: list[str]
) -> list[str]:
    imported = w.tables.imported
    other = imported.alias("other")
    stored_apps = select(other.c.storefrontGameId).where(
        other.c.userId == w.owner,
        other.c.storefront == _enum_value(other.c.storefront, Storefront.STEAM.value),
    )
    conditions = [_not_among(r.c.storefrontGameId, stored_apps)]
    ignored = _ignored_name(w, r.c.name)
    if ignored is not None:
        conditions.append(~ignored)
    source = select(
        *(
            cast(r.c[name], imported.c[name].type) if name == "igdbMatchStatus" else r.c[name]
            for name in names
        ),
        _enum_value(imported.c.storefront, Storefront.STEAM.value),
        w.owner,
        w.stamp(),
        w.stamp(),
    ).where(*conditions)
    stmt = (
        w.dialect.insert(imported)
        .from_select([*names, "storefront", "userId", "createdAt", "updatedAt"], source)
        .returning(imported.c.id)
    )
    return list(w.run(stmt, r, records).scalars())


_GENRE_SPEC: Spec = [
    ("id", _TEXT),
    ("igdbId", _INT),
    ("name", _TEXT),
    ("slug", _TEXT),
    ("checksum", _TEXT),
]
_PLATFORM_SPEC: Spec = [
    *_GENRE_SPEC[:4],
    ("abbreviation", _TEXT),
    ("alternativeName", _TEXT),
    ("generation", _INT),
    ("platformFamily", _INT),
    ("platformType", _INT),
    ("checksum", _TEXT),
]


def upsert_genres(w: Writer, records: list[Record]) -> None:
    """Insert or refresh genres by IGDB id (see `_upsert_catalogue` for name and slug clashes)."""
    _upsert_catalogue(w, w.tables.genre, _GENRE_SPEC, records)


def upsert_platforms(w: Writer, records: list[Record]) -> None:
    """Insert or refresh platforms by IGDB id, like genres."""
    _upsert_catalogue(w, w.tables.platform, _PLATFORM_SPEC, records)


def _upsert_catalogue(w: Writer, table: Table, spec: Spec, records: list[Record]) -> None:
    """Upsert by `igdbId`, skipping a record whose name or slug another IGDB id already holds
    (both are unique in the app, and a rename on IGDB's side must not abort the import); NULLs
    never erase stored values."""
    r = w.dialect.recordset(spec)
    other = table.alias("other")
    clash = exists().where(
        or_(other.c.name == r.c.name, other.c.slug == r.c.slug), other.c.igdbId != r.c.igdbId
    )
    names = [name for name, _ in spec]
    stmt = w.dialect.insert(table).from_select(
        [*names, "createdAt", "updatedAt"],
        select(*(r.c[name] for name in names), w.stamp(), w.stamp()).where(~clash),
    )
    old, new = table.c, stmt.excluded
    values: dict[str, ColumnElement[Any]] = {
        name: new[name] if name in {"name", "slug"} else func.coalesce(new[name], old[name])
        for name in names
        if name not in {"id", "igdbId"}
    }
    stmt = stmt.on_conflict_do_update(
        index_elements=["igdbId"],
        set_={**values, "updatedAt": new.updatedAt},
        where=_changed(table, values),
    )
    w.run(stmt, r, records)


_GAME_SPEC: Spec = [
    ("id", _TEXT),
    ("igdbId", _INT),
    ("title", _TEXT),
    ("description", _TEXT),
    ("coverImage", _TEXT),
    ("releaseDate", TIMESTAMP3),
    ("steamAppId", _INT),
    ("slug", _TEXT),
    ("franchiseId", _INT),
]


def upsert_games(w: Writer, records: list[Record], *, refresh: bool) -> list[str]:
    """Insert or update games by IGDB id; returns the ids written.

    A Game is only ever found by its IGDB id: an existing Game is never given another one (the
    Steam app id a row carries cannot re-point a Game other users' library items share). Never
    written: hltbId, mainStory, mainExtra, completionist (other pipelines own them), and the
    slug of an existing game (app URLs use it). A NULL never erases a stored value; a stored
    steamAppId is kept. Without `refresh` (today's app: an existing Game is the app's, shared by
    every user) only empty fields of an existing game are filled. A new game whose slug another
    game holds gets ``{slug}-{igdbId}``.
    """
    game = w.tables.game
    r = w.dialect.recordset(_GAME_SPEC)
    holder = game.alias("holder")
    slug_taken = exists().where(holder.c.slug == r.c.slug, holder.c.igdbId != r.c.igdbId)
    slug = case((slug_taken, r.c.slug + literal("-") + cast(r.c.igdbId, Text)), else_=r.c.slug)
    names = [name for name, _ in _GAME_SPEC]
    stmt = w.dialect.insert(game).from_select(
        [*names, "createdAt", "updatedAt"],
        select(
            *(slug if name == "slug" else r.c[name] for name in names),
            w.stamp(),
            w.stamp(),
        ).where(true()),
    )
    old, new = game.c, stmt.excluded
    fields = ("title", "description", "coverImage", "releaseDate", "franchiseId")
    values: dict[str, ColumnElement[Any]] = {
        name: func.coalesce(new[name], old[name])
        if refresh
        else func.coalesce(old[name], new[name])
        for name in fields
    }
    if refresh:
        values["title"] = new.title
    values["steamAppId"] = func.coalesce(old.steamAppId, new.steamAppId)
    stmt = stmt.on_conflict_do_update(
        index_elements=["igdbId"],
        set_={**values, "updatedAt": new.updatedAt},
        where=_changed(game, values),
    ).returning(game.c.id)
    return list(w.run(stmt, r, records).scalars())


def link_genres(w: Writer, records: list[Record]) -> None:
    """Link games to genres by IGDB ids; existing links stay (links are only ever added)."""
    _link(w, w.tables.game_genre, w.tables.genre, "genreId", "genreIgdbId", records)


def link_platforms(w: Writer, records: list[Record]) -> None:
    """Link games to platforms by IGDB ids, like genres (the app reads GamePlatform for its
    platform choices)."""
    _link(w, w.tables.game_platform, w.tables.platform, "platformId", "platformIgdbId", records)


def _link(
    w: Writer, table: Table, target: Table, target_column: str, key: str, records: list[Record]
) -> None:
    game = w.tables.game
    r = w.dialect.recordset([("gameIgdbId", _INT), (key, _INT)])
    source = (
        select(game.c.id, target.c.id)
        .select_from(r)
        .join(game, game.c.igdbId == r.c.gameIgdbId)
        .join(target, target.c.igdbId == r.c[key])
        .where(true())
    )
    stmt = (
        w.dialect.insert(table)
        .from_select(["gameId", target_column], source)
        .on_conflict_do_nothing(index_elements=["gameId", target_column])
    )
    w.run(stmt, r, records)


_ITEM_SPEC: Spec = [
    ("igdbId", _INT),
    ("storefrontGameId", _TEXT),
    ("status", _TEXT),
    ("platform", _TEXT),
]


def _games_without_item(w: Writer, r: FromClause, *columns: Any) -> Any:
    """The user's games among record set `r` with no LibraryItem: matched (ImportedGame MATCHED,
    live, not blocklisted by name) and grouped by game, selecting `columns`."""
    imported, game, item = w.tables.imported, w.tables.game, w.tables.library
    has_item = exists().where(item.c.userId == w.owner, item.c.gameId == game.c.id)
    conditions = [
        imported.c.igdbMatchStatus
        == _enum_value(imported.c.igdbMatchStatus, IgdbMatchStatus.MATCHED.value),
        imported.c.deletedAt.is_(None),
        ~has_item,
    ]
    ignored = _ignored_name(w, imported.c.name)
    if ignored is not None:
        conditions.append(~ignored)
    return (
        select(*columns)
        .select_from(r)
        .join(game, game.c.igdbId == r.c.igdbId)
        .join(imported, and_(*_steam_rows_of(w, imported, r.c.storefrontGameId)))
        .where(*conditions)
        .group_by(game.c.id)
    )


def create_library_items(w: Writer, records: list[Record]) -> int:
    """Add a LibraryItem for each matched game the user has none for; returns how many.

    Only games whose ImportedGame row is MATCHED in the database, not soft-deleted and not
    blocklisted by name count, so an IGNORED game never enters the library. Existing items are
    never modified. Columns other than status, platform, user, game and updatedAt take the
    database's defaults, as the app's own add-to-library does. Whether a game may be added at
    all (not placed before: `lambdas.database.placement`) is the caller's choice of `records`.
    """
    r = w.dialect.recordset(_ITEM_SPEC)
    item = w.tables.library
    source = _games_without_item(
        w,
        r,
        cast(func.min(r.c.status), item.c.status.type),
        w.stamp(),
        func.min(r.c.platform),
        w.owner,
        w.tables.game.c.id,
    )
    stmt = (
        w.dialect.insert(item)
        .from_select(["status", "updatedAt", "platform", "userId", "gameId"], source)
        .returning(item.c.id)
    )
    return len(w.run(stmt, r, records).scalars().all())


def count_games_without_item(w: Writer, records: list[Record]) -> int:
    """How many of the matched games among `records` the user has no LibraryItem for: one
    statement, writing nothing (the games an import leaves out because the user removed them)."""
    r = w.dialect.recordset(_ITEM_SPEC)
    games = _games_without_item(w, r, w.tables.game.c.id).subquery()
    return int(w.run(select(func.count()).select_from(games), r, records).scalar_one())


__all__: Sequence[str] = [
    "Writer",
    "count_backwards",
    "count_games_without_item",
    "create_library_items",
    "link_genres",
    "link_platforms",
    "upsert_games",
    "upsert_genres",
    "upsert_imported_games",
    "upsert_platforms",
]
