"""An import adds a game's LibraryItem once: an item the user removed (the app's plain DELETE)
is never re-created by a later import, while `link` adds it again on request. On standalone
SQLite and PostgreSQL and on both app-schema fixtures."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from tests.integration.app_schemas.conftest import USER, schema_dump
from tests.integration.pipeline.conftest import sandbox_settings_for
from tests.unit.db.factories import row

from lambdas.clients.igdb import IgdbClient
from lambdas.database.loader import import_rows
from lambdas.database.schema import prepare_own_state
from lambdas.models.rows import MatchStatus
from lambdas.review.service import link_game
from lambdas.sql.engine import create_engine
from steam_sandbox import Sandbox

T0 = datetime(2026, 6, 30, 12, 0, 0)
T1 = datetime(2026, 7, 1, 12, 0, 0)
T2 = datetime(2026, 7, 2, 12, 0, 0)


def _items(engine: Engine, user_id: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text('SELECT count(*) FROM "LibraryItem" WHERE "userId" = :u'), {"u": user_id}
            ).scalar_one()
        )


def _playtime(engine: Engine, user_id: str, app_id: int) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    'SELECT playtime FROM "ImportedGame" WHERE "userId" = :u '
                    'AND "storefrontGameId" = :a'
                ),
                {"u": user_id, "a": str(app_id)},
            ).scalar_one()
        )


def _remove_from_library(engine: Engine, user_id: str, igdb_id: int) -> None:
    """What the app's "remove from library" does: a plain DELETE of the LibraryItem."""
    with engine.begin() as connection:
        removed = connection.execute(
            text(
                'DELETE FROM "LibraryItem" WHERE "userId" = :u AND "gameId" = '
                '(SELECT id FROM "Game" WHERE "igdbId" = :g)'
            ),
            {"u": user_id, "g": igdb_id},
        ).rowcount
    assert removed == 1


def removed_games_stay_removed(
    engine: Engine, sandbox: Sandbox, tmp_path: Path, user_id: str
) -> None:
    truth = [a for a in sandbox.ground_truth("small") if a.status is MatchStatus.MATCHED]
    first, second = truth[0], truth[1]
    assert first.igdb_id is not None and second.igdb_id is not None
    library = [row(first.appid, igdb_id=first.igdb_id), row(second.appid, igdb_id=second.igdb_id)]
    assert import_rows(engine, user_id=user_id, rows=library, now=T0).library_items_created == 2
    _remove_from_library(engine, user_id, first.igdb_id)

    unchanged = import_rows(engine, user_id=user_id, rows=library, now=T1)
    assert (unchanged.library_items_created, unchanged.removed_by_user_left_out) == (0, 1)
    assert _items(engine, user_id) == 1

    grown = [row(first.appid, igdb_id=first.igdb_id, windows=90), library[1]]
    played = import_rows(engine, user_id=user_id, rows=grown, now=T2)
    assert played.imported_games_updated == 1
    assert (played.library_items_created, played.removed_by_user_left_out) == (0, 1)
    assert _playtime(engine, user_id, first.appid) == 90
    assert _items(engine, user_id) == 1

    settings = sandbox_settings_for(sandbox, tmp_path)

    async def link() -> bool:
        async with IgdbClient.from_settings(settings) as igdb:
            linked = await link_game(
                engine,
                igdb,
                user_id=user_id,
                app_id=first.appid,
                igdb_id=first.igdb_id or 0,
                settings=settings,
            )
        return linked.library_item_created

    assert asyncio.run(link()) is True  # the user asked: the game is back
    assert _items(engine, user_id) == 2
    after = import_rows(engine, user_id=user_id, rows=grown, now=T2)
    assert (after.library_items_created, after.removed_by_user_left_out) == (0, 0)


def test_a_removed_game_stays_removed_standalone(
    engine: Engine, user_id: str, fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    removed_games_stay_removed(engine, fresh_sandbox, tmp_path, user_id)


@pytest.mark.parametrize("own_state", [False, True], ids=["no-own-state", "own-state"])
def test_a_removed_game_stays_removed_in_the_apps_schemas(
    app_db: tuple[str, str], fresh_sandbox: Sandbox, tmp_path: Path, own_state: bool
) -> None:
    """Without own state the rule is "MATCHED before counts as placed"; with it, the placement
    record too."""
    _profile, url = app_db
    before = schema_dump(url)
    if own_state:
        prepare_own_state(url)
    engine = create_engine(url)
    try:
        removed_games_stay_removed(engine, fresh_sandbox, tmp_path, USER)
    finally:
        engine.dispose()
    assert schema_dump(url) == before


def test_the_placement_record_outlives_the_imported_game_row(engine: Engine, user_id: str) -> None:
    """The record, not the ImportedGame row, is the rule's source of truth: a removed game stays
    removed even when its ImportedGame row went too."""
    library = [row(7, igdb_id=700)]
    assert import_rows(engine, user_id=user_id, rows=library, now=T0).library_items_created == 1
    _remove_from_library(engine, user_id, 700)
    with engine.begin() as connection:
        connection.execute(text('DELETE FROM "ImportedGame" WHERE "userId" = :u'), {"u": user_id})
    again = import_rows(engine, user_id=user_id, rows=library, now=T1)
    assert (again.imported_games_created, again.library_items_created) == (1, 0)
    assert again.removed_by_user_left_out == 1
