"""The review list: games stage 2 could not match, and the two ways out of it, link and ignore."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.engine import Engine, Row
from sqlalchemy.sql.elements import ColumnElement

from lambdas.clients.igdb import IgdbClient
from lambdas.clients.s3 import Storage, user_prefix, validate_user_id
from lambdas.config import Settings
from lambdas.database.loader import (
    create_library_item,
    upsert_game,
    upsert_imported_game,
    utc_now,
)
from lambdas.database.users import ensure_user
from lambdas.enrichment.classifier import Classification
from lambdas.enrichment.matching import build_row
from lambdas.errors import (
    IgdbGameNotFoundError,
    ImportedGameNotFoundError,
    MalformedCsvError,
    NotAGameError,
)
from lambdas.models.csv_codec import decode_rows
from lambdas.models.db import IgdbMatchStatus, ImportedGame, Storefront
from lambdas.models.igdb import IgdbGame
from lambdas.models.rows import (
    AppKind,
    Candidate,
    EnrichedGameRow,
    MatchMethod,
    MatchStatus,
    RawGameRow,
)
from lambdas.sql.engine import database_errors

log = structlog.get_logger()

_MANUAL = Classification(AppKind.GAME, enrich=True, rule="manual_link")


@dataclass(frozen=True, slots=True)
class UnmatchedGame:
    app_id: int
    name: str
    playtime: int
    imported_at: datetime
    candidates: list[Candidate]


@dataclass(frozen=True, slots=True)
class LinkResult:
    app_id: int
    igdb_id: int
    title: str
    library_item_created: bool


def _steam_game(user_id: str, app_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        ImportedGame.userId == user_id,
        ImportedGame.storefront == Storefront.STEAM,
        ImportedGame.storefrontGameId == str(app_id),
        ImportedGame.deletedAt.is_(None),
    )


def list_unmatched(engine: Engine, storage: Storage, *, user_id: str) -> list[UnmatchedGame]:
    """The user's games waiting for review, most played first, with stage 2's candidates."""
    ensure_user(engine, user_id=user_id, create=False)
    with database_errors(), engine.connect() as connection:
        rows = connection.execute(
            select(
                ImportedGame.storefrontGameId,
                ImportedGame.name,
                ImportedGame.playtime,
                ImportedGame.createdAt,
            )
            .where(
                ImportedGame.userId == user_id,
                ImportedGame.storefront == Storefront.STEAM,
                ImportedGame.igdbMatchStatus == IgdbMatchStatus.UNMATCHED,
                ImportedGame.deletedAt.is_(None),
            )
            .order_by(ImportedGame.playtime.desc(), ImportedGame.name)
        ).all()
    candidates = _latest_candidates(storage, user_id)
    return [
        UnmatchedGame(
            app_id=int(row.storefrontGameId),
            name=row.name,
            playtime=row.playtime or 0,
            imported_at=row.createdAt,
            candidates=candidates.get(int(row.storefrontGameId), []),
        )
        for row in rows
        if row.storefrontGameId and row.storefrontGameId.isdigit()
    ]


def _latest_candidates(storage: Storage, user_id: str) -> dict[int, list[Candidate]]:
    keys = [key for key in storage.list_keys(user_prefix(user_id)) if key.endswith("-enriched.csv")]
    if not keys:
        return {}
    try:
        rows = decode_rows(
            storage.get(storage.location_of(keys[-1]), user_id=user_id), EnrichedGameRow
        )
    except MalformedCsvError as exc:
        log.warning("review.candidates_unreadable", key=keys[-1], error=exc.message)
        return {}
    return {row.appid: row.candidates for row in rows if row.candidates}


def ignore_game(engine: Engine, *, user_id: str, app_id: int) -> None:
    """Mark a game IGNORED: it never enters the library, and later imports keep it ignored."""
    validate_user_id(user_id)
    with database_errors(), engine.begin() as connection:
        changed = connection.execute(
            update(ImportedGame)
            .where(*_steam_game(user_id, app_id))
            .values(igdbMatchStatus=IgdbMatchStatus.IGNORED, updatedAt=utc_now())
        ).rowcount
    if not changed:
        raise ImportedGameNotFoundError(f"user {user_id!r} has no imported Steam app {app_id}")
    log.info("review.ignored", app_id=app_id)


async def link_game(
    engine: Engine,
    igdb: IgdbClient,
    *,
    user_id: str,
    app_id: int,
    igdb_id: int,
    settings: Settings,
) -> LinkResult:
    """Link an imported game to an IGDB game, exactly as if stage 2 had matched it."""
    validate_user_id(user_id)
    game = (await igdb.get_games_by_ids([igdb_id])).get(igdb_id)
    if game is None:
        raise IgdbGameNotFoundError(f"IGDB has no game with id {igdb_id}")
    with database_errors(), engine.begin() as connection:
        found = connection.execute(
            select(ImportedGame.__table__).where(*_steam_game(user_id, app_id))
        ).first()
        if found is None:
            raise ImportedGameNotFoundError(f"user {user_id!r} has no imported Steam app {app_id}")
        row = _linked_row(found, game)
        now = utc_now()
        upsert_imported_game(connection, row, user_id=user_id, now=now)
        connection.execute(  # an explicit link also lifts an earlier IGNORED
            update(ImportedGame)
            .where(*_steam_game(user_id, app_id))
            .values(igdbMatchStatus=IgdbMatchStatus.MATCHED, updatedAt=now)
        )
        upsert_game(connection, row, now=now)
        created = create_library_item(
            connection,
            row,
            user_id=user_id,
            status_unplayed=settings.library_status_unplayed,
            status_played=settings.library_status_played,
            now=now,
        )
    log.info("review.linked", app_id=app_id, igdb_id=igdb_id, library_item_created=created)
    return LinkResult(app_id=app_id, igdb_id=igdb_id, title=game.name, library_item_created=created)


def _linked_row(imported: Row[Any], game: IgdbGame) -> EnrichedGameRow:
    raw = RawGameRow(
        appid=int(imported.storefrontGameId or 0),
        name=imported.name,
        playtime_forever=imported.playtime or 0,
        playtime_windows_forever=imported.playtimeWindows or 0,
        playtime_mac_forever=imported.playtimeMac or 0,
        playtime_linux_forever=imported.playtimeLinux or 0,
        rtime_last_played=int(imported.lastPlayedAt.replace(tzinfo=UTC).timestamp())
        if imported.lastPlayedAt
        else 0,
        img_icon_url=imported.img_icon_url or "",
    )
    row = build_row(
        raw, _MANUAL, game=game, method=MatchMethod.MANUAL, now=datetime.now(UTC), reason="link"
    )
    if row.match_status is not MatchStatus.MATCHED:
        raise NotAGameError(
            f"IGDB game {game.id} ({game.name!r}) is a {row.kind.value.lower()} "
            f"(game_type {game.game_type}); link the main game instead"
        )
    return row


async def search_candidates(igdb: IgdbClient, title: str, *, limit: int = 10) -> list[IgdbGame]:
    """IGDB games for a title, to pick an id for `link`."""
    return await igdb.search_games(title, limit=limit)
