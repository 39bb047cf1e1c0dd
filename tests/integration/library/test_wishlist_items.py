"""Stage 3 of the wishlist against the sandbox: WISHLIST items for the matched wishlisted games a
user does not own, added once, promoted when bought and untouched, never touched once edited,
never deleted; on standalone SQLite and PostgreSQL and on both app-schema fixtures."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.engine import Engine
from tests.integration.app_schemas.conftest import USER, schema_dump
from tests.integration.pipeline.conftest import sandbox_settings_for

from lambdas.clients.igdb import reset_process_caches
from lambdas.clients.s3 import LocalStorage, forget_library_state
from lambdas.database.schema import prepare_own_state
from lambdas.models.events import ImportStats
from lambdas.models.rows import MatchStatus
from lambdas.pipeline import PipelineResult, Stage, import_user_library
from lambdas.sql.engine import create_engine
from lambdas.stages import StageContext
from steam_sandbox import AppKind, Sandbox


def _import(
    engine: Engine,
    url: str,
    sandbox: Sandbox,
    tmp_path: Path,
    user_id: str,
    run: str,
    *,
    forget: bool = False,
    **extra: Any,
) -> ImportStats:
    """A whole import of the sandbox's small user (created here on a standalone database; the
    app's databases have theirs, and refuse to create one)."""
    reset_process_caches()
    settings = sandbox_settings_for(sandbox, tmp_path, database_url=SecretStr(url), **extra)
    context = StageContext(
        settings=settings, storage=LocalStorage(settings.data_dir), engine=engine
    )
    if forget:  # else an import of the same library and wishlist ends after stage 1 (issue 26)
        forget_library_state(context.storage, user_id)
    result: PipelineResult = asyncio.run(
        import_user_library(
            context=context,
            user_id=user_id,
            steam_account=sandbox.users.small.steamid64,
            import_id=run,
            create_user=user_id != USER,
        )
    )
    assert result.success, result.as_dict()
    return result.response(Stage.LOAD).stats


def _items(engine: Engine, user_id: str) -> dict[int, dict[str, Any]]:
    """The user's LibraryItems by their game's IGDB id."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                'SELECT g."igdbId" AS igdb, i.id, CAST(i.status AS TEXT) AS status, '
                'i."updatedAt" AS updated FROM "LibraryItem" i JOIN "Game" g ON g.id = i."gameId" '
                'WHERE i."userId" = :u'
            ),
            {"u": user_id},
        )
        return {int(r.igdb): dict(r._mapping) for r in rows}


def wishlist_items_follow_the_wishlist(
    engine: Engine, url: str, sandbox: Sandbox, tmp_path: Path, user_id: str, owned_status: str
) -> None:
    owned = {a.appid for a in sandbox.ground_truth("small")}
    wished = [
        e.app.truth
        for e in sandbox.wishlist("small")
        if e.app.appid not in owned
        and e.app.truth.kind is AppKind.GAME
        and e.app.truth.status is MatchStatus.MATCHED
    ]
    assert len(wished) >= 3
    first = _import(engine, url, sandbox, tmp_path, user_id, "w1")
    items = _items(engine, user_id)
    assert first.wishlist_items_created == len(wished)
    assert {t.igdb_id: items[t.igdb_id or 0]["status"] for t in wished} == {
        t.igdb_id: "WISHLIST" for t in wished
    }
    owned_wished = next(e.app for e in sandbox.wishlist("small") if e.app.appid in owned)
    if owned_wished.truth.igdb_id is not None:  # owned: its item is the owned game's
        assert items[owned_wished.truth.igdb_id]["status"] != "WISHLIST"
    assert len(items) == first.library_items_created + first.wishlist_items_created

    again = _import(engine, url, sandbox, tmp_path, user_id, "w2", forget=True)
    assert (again.library_items_created, again.wishlist_items_created) == (0, 0)
    assert again.wishlist_in_library == len(wished)
    assert _items(engine, user_id) == items

    bought, edited, removed = wished[0], wished[1], wished[2]
    with engine.begin() as connection:  # the user edits one item and removes another in the app
        connection.execute(
            text(
                'UPDATE "LibraryItem" SET platform = \'Mine\', "updatedAt" = :t WHERE id = :i'
            ).bindparams(bindparam("t", type_=DateTime())),  # formatted by SQLAlchemy, not sqlite3
            {
                "t": datetime(2030, 1, 1),
                "i": items[edited.igdb_id or 0]["id"],
            },
        )
        connection.execute(
            text('DELETE FROM "LibraryItem" WHERE id = :i'),
            {"i": items[removed.igdb_id or 0]["id"]},
        )
    sandbox.buy("small", bought.appid)
    sandbox.buy("small", edited.appid)
    third = _import(engine, url, sandbox, tmp_path, user_id, "w3")
    after = _items(engine, user_id)
    assert third.wishlist_promoted == 1
    assert after[bought.igdb_id or 0]["status"] == owned_status
    assert after[bought.igdb_id or 0]["id"] == items[bought.igdb_id or 0]["id"]  # the same item
    assert after[edited.igdb_id or 0]["status"] == "WISHLIST"  # edited: never touched
    assert removed.igdb_id not in after  # removed: not re-added
    assert third.wishlist_removed_by_user == 1
    assert (third.library_items_created, third.wishlist_items_created) == (0, 0)


def test_wishlist_items_standalone(
    engine: Engine, db_url: str, fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    wishlist_items_follow_the_wishlist(
        engine, db_url, fresh_sandbox, tmp_path, "user-w", owned_status="CURIOUS_ABOUT"
    )


def test_wishlist_items_in_the_apps_schemas(
    app_db: tuple[str, str], fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    profile, url = app_db
    before = schema_dump(url)
    prepare_own_state(url)
    engine = create_engine(url)
    try:
        wishlist_items_follow_the_wishlist(
            engine,
            url,
            fresh_sandbox,
            tmp_path,
            USER,
            owned_status="SHELF" if profile == "savepoint-2026" else "CURIOUS_ABOUT",
        )
    finally:
        engine.dispose()
    assert schema_dump(url) == before
