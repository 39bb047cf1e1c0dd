"""The set-based SQL of stage 3: one statement per table, whatever the number of rows."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql import FromClause
from sqlalchemy.types import TypeEngine

from lambdas.database.payloads import Record
from lambdas.models.db import (
    TIMESTAMP3,
    AcquisitionType,
    Game,
    GameGenre,
    GamePlatform,
    Genre,
    IgdbMatchStatus,
    ImportedGame,
    LibraryItem,
    Platform,
    Storefront,
)

_IMPORTED: Table = ImportedGame.__table__  # type: ignore[assignment]
_GAME: Table = Game.__table__  # type: ignore[assignment]
_GENRE: Table = Genre.__table__  # type: ignore[assignment]
_PLATFORM: Table = Platform.__table__  # type: ignore[assignment]
_LIBRARY: Table = LibraryItem.__table__  # type: ignore[assignment]
_GAME_GENRE: Table = GameGenre.__table__  # type: ignore[assignment]
_GAME_PLATFORM: Table = GamePlatform.__table__  # type: ignore[assignment]

Spec = Sequence[tuple[str, TypeEngine[Any]]]


def recordset(connection: Connection, spec: Spec, *, name: str = "r") -> FromClause:
    """A table with the columns of `spec`, read from one JSON parameter (see `records_param`).

    The database unpacks the array itself (`jsonb_to_recordset` on PostgreSQL, `json_each` on
    SQLite), so an import of 100 or 5,000 games sends the same statements, and no dialect's
    bound-parameter limit (SQLite 32,766, PostgreSQL 65,535) is ever reached: neither database
    needs chunking. Timestamps travel as text in SQLAlchemy's SQLite storage format, which
    PostgreSQL parses too. The JSON is passed at execution, never embedded: the engine's
    compiled-statement cache would keep an embedded value (megabytes) for the process's life.
    """
    payload = bindparam(f"{name}_records", type_=Text)
    if connection.dialect.name == "postgresql":
        unpacked = func.jsonb_to_recordset(cast(payload, postgresql.JSONB))
        return unpacked.table_valued(*(column(n, t) for n, t in spec)).render_derived(
            name=name, with_types=True
        )
    each = func.json_each(payload).table_valued("value", name=f"{name}_items")
    fields = [
        type_coerce(func.json_extract(each.c.value, f'$."{field}"'), kind).label(field)
        for field, kind in spec
    ]
    return select(*fields).select_from(each).subquery(name)


def records_param(records: list[Record], *, name: str = "r") -> dict[str, str]:
    """The execution parameter of the `recordset` called `name`: `records` as a JSON array."""
    return {f"{name}_records": json.dumps(records, ensure_ascii=False)}


def _insert(connection: Connection, table: Table) -> Any:
    module = postgresql if connection.dialect.name == "postgresql" else sqlite
    return module.insert(table)


def _changed(table: Table, values: dict[str, ColumnElement[Any]]) -> ColumnElement[bool]:
    return or_(*(table.c[name].is_distinct_from(value) for name, value in values.items()))


def _enum_value(target: Any, value: str) -> ColumnElement[Any]:
    """`value` cast to the enum type of column `target` (PostgreSQL will not compare text)."""
    return cast(literal(value, String), target.type)


def _stamp(now: datetime) -> ColumnElement[datetime]:
    return literal(now, TIMESTAMP3)


_TEXT, _INT = Text(), Integer()
_IMPORTED_SPEC: Spec = [
    ("id", _TEXT),
    ("name", _TEXT),
    ("storefrontGameId", _TEXT),
    ("playtime", _INT),
    ("playtimeWindows", _INT),
    ("playtimeMac", _INT),
    ("playtimeLinux", _INT),
    ("lastPlayedAt", TIMESTAMP3),
    ("img_icon_url", _TEXT),
    ("igdbMatchStatus", _TEXT),
]


def upsert_imported_games(
    connection: Connection, records: list[Record], *, user_id: str, now: datetime
) -> list[str]:
    """Insert or update the user's Steam ImportedGame rows; returns the ids written.

    Untouched: rows the user soft-deleted, and rows whose values would not change. Kept: IGNORED
    stays IGNORED, and a MATCHED row never falls back to UNMATCHED (a manual link survives a run
    that could not match). A NULL icon never erases a stored one.
    """
    r = recordset(connection, _IMPORTED_SPEC)
    names = [name for name, _ in _IMPORTED_SPEC]
    stmt = _insert(connection, _IMPORTED).from_select(
        [*names, "storefront", "userId", "createdAt", "updatedAt"],
        select(
            *(
                cast(r.c[name], _IMPORTED.c[name].type) if name == "igdbMatchStatus" else r.c[name]
                for name in names
            ),
            _enum_value(_IMPORTED.c.storefront, Storefront.STEAM.value),
            literal(user_id, Text),
            _stamp(now),
            _stamp(now),
        ).where(true()),
    )
    old, new = _IMPORTED.c, stmt.excluded
    ignored, matched, unmatched = (
        _enum_value(old.igdbMatchStatus, status.value)
        for status in (IgdbMatchStatus.IGNORED, IgdbMatchStatus.MATCHED, IgdbMatchStatus.UNMATCHED)
    )
    status = case(
        (old.igdbMatchStatus == ignored, old.igdbMatchStatus),
        (and_(old.igdbMatchStatus == matched, new.igdbMatchStatus == unmatched), matched),
        else_=new.igdbMatchStatus,
    )
    values: dict[str, ColumnElement[Any]] = {
        "name": new.name,
        "playtime": new.playtime,
        "playtimeWindows": new.playtimeWindows,
        "playtimeMac": new.playtimeMac,
        "playtimeLinux": new.playtimeLinux,
        "lastPlayedAt": new.lastPlayedAt,
        "img_icon_url": func.coalesce(new.img_icon_url, old.img_icon_url),
        "igdbMatchStatus": status,
    }
    stmt = stmt.on_conflict_do_update(
        index_elements=["userId", "storefront", "storefrontGameId"],
        set_={**values, "updatedAt": new.updatedAt},
        where=and_(old.deletedAt.is_(None), _changed(_IMPORTED, values)),
    ).returning(_IMPORTED.c.id)
    return list(connection.execute(stmt, records_param(records)).scalars())


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


def upsert_genres(connection: Connection, records: list[Record], *, now: datetime) -> None:
    """Insert or refresh genres by IGDB id (see `_upsert_catalogue` for name and slug clashes)."""
    _upsert_catalogue(connection, _GENRE, _GENRE_SPEC, records, now=now)


def upsert_platforms(connection: Connection, records: list[Record], *, now: datetime) -> None:
    """Insert or refresh platforms by IGDB id, like genres."""
    _upsert_catalogue(connection, _PLATFORM, _PLATFORM_SPEC, records, now=now)


def _upsert_catalogue(
    connection: Connection, table: Table, spec: Spec, records: list[Record], *, now: datetime
) -> None:
    """Upsert by `igdbId`, skipping a record whose name or slug another IGDB id already holds
    (a rename on IGDB's side must not abort the import); NULLs never erase stored values."""
    r = recordset(connection, spec)
    other = table.alias("other")
    clash = exists().where(
        or_(other.c.name == r.c.name, other.c.slug == r.c.slug), other.c.igdbId != r.c.igdbId
    )
    names = [name for name, _ in spec]
    stmt = _insert(connection, table).from_select(
        [*names, "createdAt", "updatedAt"],
        select(*(r.c[name] for name in names), _stamp(now), _stamp(now)).where(~clash),
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
    connection.execute(stmt, records_param(records))


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


def rekey_games_by_steam_app(
    connection: Connection, records: list[Record], *, now: datetime
) -> list[str]:
    """Give a game known only by its Steam app id the IGDB id it now matches; returns their ids.

    This is the "else by steamAppId" half of the Game upsert: when no Game has the IGDB id yet but
    one has the Steam app id, that Game is updated instead of a twin being created. Among several
    such Games the smallest id wins. Skipped: app ids shared by two records of this import, and
    Games whose current IGDB id this import still writes (that game is not gone, only re-linked).
    """
    apps = Counter(record["steamAppId"] for record in records)
    unique = [
        {"igdbId": record["igdbId"], "steamAppId": record["steamAppId"]}
        for record in records
        if apps[record["steamAppId"]] == 1
    ]
    r = recordset(connection, [("igdbId", _INT), ("steamAppId", _INT)])
    written = recordset(connection, [("igdbId", _INT)], name="written")
    params = {
        **records_param(unique),
        **records_param([{"igdbId": record["igdbId"]} for record in records], name="written"),
    }
    same_app = _GAME.alias("same_app")
    same_igdb = _GAME.alias("same_igdb")
    first_with_app = (
        select(func.min(same_app.c.id))
        .where(same_app.c.steamAppId == r.c.steamAppId)
        .scalar_subquery()
    )
    stmt = (
        update(_GAME)
        .values(igdbId=r.c.igdbId, updatedAt=_stamp(now))
        .where(
            _GAME.c.steamAppId == r.c.steamAppId,
            _GAME.c.id == first_with_app,
            ~exists().where(same_igdb.c.igdbId == r.c.igdbId),
            ~exists().where(written.c.igdbId == _GAME.c.igdbId),
        )
        .returning(_GAME.c.id)
    )
    return list(connection.execute(stmt, params).scalars())


def upsert_games(connection: Connection, records: list[Record], *, now: datetime) -> list[str]:
    """Insert or update games by IGDB id; returns the ids written.

    Never written: hltbId, mainStory, mainExtra, completionist (other pipelines own them), and the
    slug of an existing game (app URLs use it). A NULL never erases a stored value; a stored
    steamAppId is kept. A new game whose slug another game holds gets ``{slug}-{igdbId}``.
    """
    r = recordset(connection, _GAME_SPEC)
    holder = _GAME.alias("holder")
    slug_taken = exists().where(holder.c.slug == r.c.slug, holder.c.igdbId != r.c.igdbId)
    slug = case((slug_taken, r.c.slug + literal("-") + cast(r.c.igdbId, Text)), else_=r.c.slug)
    names = [name for name, _ in _GAME_SPEC]
    stmt = _insert(connection, _GAME).from_select(
        [*names, "createdAt", "updatedAt"],
        select(
            *(slug if name == "slug" else r.c[name] for name in names),
            _stamp(now),
            _stamp(now),
        ).where(true()),
    )
    old, new = _GAME.c, stmt.excluded
    values: dict[str, ColumnElement[Any]] = {
        "title": new.title,
        "description": func.coalesce(new.description, old.description),
        "coverImage": func.coalesce(new.coverImage, old.coverImage),
        "releaseDate": func.coalesce(new.releaseDate, old.releaseDate),
        "franchiseId": func.coalesce(new.franchiseId, old.franchiseId),
        "steamAppId": func.coalesce(old.steamAppId, new.steamAppId),
    }
    stmt = stmt.on_conflict_do_update(
        index_elements=["igdbId"],
        set_={**values, "updatedAt": new.updatedAt},
        where=_changed(_GAME, values),
    ).returning(_GAME.c.id)
    return list(connection.execute(stmt, records_param(records)).scalars())


def link_genres(connection: Connection, records: list[Record]) -> None:
    """Link games to genres by IGDB ids; existing links stay (links are only ever added)."""
    _link(connection, _GAME_GENRE, _GENRE, "genreId", "genreIgdbId", records)


def link_platforms(connection: Connection, records: list[Record]) -> None:
    """Link games to platforms by IGDB ids, like genres."""
    _link(connection, _GAME_PLATFORM, _PLATFORM, "platformId", "platformIgdbId", records)


def _link(
    connection: Connection,
    table: Table,
    target: Table,
    target_column: str,
    key: str,
    records: list[Record],
) -> None:
    r = recordset(connection, [("gameIgdbId", _INT), (key, _INT)])
    source = (
        select(_GAME.c.id, target.c.id)
        .select_from(r)
        .join(_GAME, _GAME.c.igdbId == r.c.gameIgdbId)
        .join(target, target.c.igdbId == r.c[key])
        .where(true())
    )
    stmt = (
        _insert(connection, table)
        .from_select(["gameId", target_column], source)
        .on_conflict_do_nothing(index_elements=["gameId", target_column])
    )
    connection.execute(stmt, records_param(records))


def create_library_items(
    connection: Connection, records: list[Record], *, user_id: str, now: datetime
) -> int:
    """Add a DIGITAL LibraryItem for each matched game the user has none for; returns how many.

    Only games whose ImportedGame row is MATCHED in the database and not soft-deleted count, so
    an IGNORED game never enters the library. Existing items are never modified.
    """
    spec: Spec = [
        ("igdbId", _INT),
        ("storefrontGameId", _TEXT),
        ("status", _TEXT),
        ("platform", _TEXT),
    ]
    r = recordset(connection, spec)
    imported, game, item = _IMPORTED, _GAME, _LIBRARY
    owner = literal(user_id, Text)
    has_item = exists().where(item.c.userId == owner, item.c.gameId == game.c.id)
    source = (
        select(
            cast(func.min(r.c.status), item.c.status.type),
            _stamp(now),
            _stamp(now),
            func.min(r.c.platform),
            owner,
            _enum_value(item.c.acquisitionType, AcquisitionType.DIGITAL.value),
            game.c.id,
        )
        .select_from(r)
        .join(game, game.c.igdbId == r.c.igdbId)
        .join(
            imported,
            and_(
                imported.c.userId == owner,
                imported.c.storefront == _enum_value(imported.c.storefront, Storefront.STEAM.value),
                imported.c.storefrontGameId == r.c.storefrontGameId,
            ),
        )
        .where(
            imported.c.igdbMatchStatus
            == _enum_value(imported.c.igdbMatchStatus, IgdbMatchStatus.MATCHED.value),
            imported.c.deletedAt.is_(None),
            ~has_item,
        )
        .group_by(game.c.id)
    )
    stmt = (
        _insert(connection, item)
        .from_select(
            ["status", "createdAt", "updatedAt", "platform", "userId", "acquisitionType", "gameId"],
            source,
        )
        .returning(item.c.id)
    )
    return len(connection.execute(stmt, records_param(records)).scalars().all())
