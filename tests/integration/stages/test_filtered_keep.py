"""Filtered apps are recorded in own state (never in the app's tables), listed with their reasons,
and `keep` makes one a game for good; both survive re-imports, and `ignore` stays the opposite."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import Engine

from lambdas.clients.igdb import IgdbClient, reset_process_caches
from lambdas.clients.s3 import LocalStorage
from lambdas.config import Settings
from lambdas.errors import ImportedGameNotFoundError
from lambdas.models.csv_codec import decode_rows
from lambdas.models.db import IgdbMatchStatus, ImportedGame
from lambdas.models.rows import EnrichedGameRow, MatchStatus
from lambdas.pipeline import PipelineResult, Stage, import_user_library
from lambdas.review.filtered import keep_filtered_app, list_filtered_apps
from lambdas.review.service import ignore_game
from lambdas.stages import StageContext
from steam_sandbox import Sandbox

USER = "user-1"


@pytest.fixture
def context(fresh_sandbox: Sandbox, tmp_path: Path, db_url: str, engine: Engine) -> StageContext:
    settings = Settings(
        **{name.lower(): value for name, value in fresh_sandbox.env().items()},
        data_dir=tmp_path / "data",
        database_url=SecretStr(db_url),
        retry_initial_wait_seconds=0.01,
        retry_max_wait_seconds=0.2,
    )
    return StageContext(settings=settings, storage=LocalStorage(settings.data_dir), engine=engine)


def run(context: StageContext, sandbox: Sandbox, import_id: str) -> PipelineResult:
    reset_process_caches()
    result = asyncio.run(
        import_user_library(
            context=context,
            user_id=USER,
            steam_account=str(sandbox.users.medium.steamid64),
            import_id=import_id,
            create_user=True,
        )
    )
    assert result.success, result.as_dict()
    return result


def enriched_rows(context: StageContext, result: PipelineResult) -> dict[int, EnrichedGameRow]:
    response: Any = result.response(Stage.ENRICH)
    data = context.storage.get(response.s3_enriched_location, user_id=USER)
    return {row.appid: row for row in decode_rows(data, EnrichedGameRow)}


def imported(engine: Engine) -> dict[int, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(ImportedGame.storefrontGameId, ImportedGame.igdbMatchStatus).where(
                ImportedGame.userId == USER
            )
        ).all()
    return {int(app_id): str(status.value) for app_id, status in rows}


def listing(engine: Engine) -> list[tuple[int, str, str]]:
    return [(app.app_id, app.kind, app.reason) for app in list_filtered_apps(engine, user_id=USER)]


def keep(context: StageContext, app_id: int) -> Any:
    async def go() -> Any:
        async with IgdbClient.from_settings(context.settings) as igdb:
            return await keep_filtered_app(
                context.database(),
                igdb,
                user_id=USER,
                app_id=app_id,
                settings=context.settings,
                storage=context.storage,
            )

    return asyncio.run(go())


def test_filtered_and_keep_survive_reimports(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    first = run(context, fresh_sandbox, "imp-1")
    rows = enriched_rows(context, first)
    assert len(rows) == fresh_sandbox.users.medium.expected_game_count  # every app has a row
    filtered = {
        appid: row for appid, row in rows.items() if row.match_status is MatchStatus.FILTERED
    }
    assert filtered and all(row.reason for row in rows.values())
    listed = listing(engine)
    assert listed == sorted(
        ((row.appid, row.kind.value, row.reason) for row in filtered.values()),
        key=lambda item: (item[1], rows[item[0]].name, item[0]),
    )
    assert not set(filtered) & set(imported(engine))  # never in the app's tables

    # A DLC the store types 4 that IGDB maps to an entry, and one with no IGDB mapping at all:
    # an app the store calls a game, filtered on weaker clues (the silent quadrant).
    truth = fresh_sandbox.catalogue.truth
    mapped = next(a for a in filtered if filtered[a].steam_type == 4 and truth(a).mapped_igdb_ids)
    unmapped = next(a for a in filtered if "igdb silent + " in filtered[a].reason)
    assert not truth(unmapped).mapped_igdb_ids and filtered[unmapped].steam_type == 0
    kept_mapped = keep(context, mapped)
    kept_unmapped = keep(context, unmapped)
    assert (kept_mapped.status, kept_mapped.igdb_id) == ("MATCHED", truth(mapped).igdb_id)
    assert kept_unmapped.status in ("MATCHED", "UNMATCHED")
    after_keep = imported(engine)
    assert after_keep[mapped] == "MATCHED" and after_keep[unmapped] == kept_unmapped.status
    remaining = [item for item in listed if item[0] not in (mapped, unmapped)]
    assert listing(engine) == remaining
    assert keep(context, mapped).status == "KEPT"  # again: a no-op
    with pytest.raises(ImportedGameNotFoundError):
        keep(context, next(iter(set(rows) - set(filtered))))  # a game is not filtered

    second = run(context, fresh_sandbox, "imp-2")
    again = enriched_rows(context, second)
    assert again[mapped].reason == "keep" and again[mapped].match_status is MatchStatus.MATCHED
    assert again[unmapped].reason == "keep"
    assert listing(engine) == remaining
    assert imported(engine) == after_keep

    ignore_game(engine, user_id=USER, app_id=mapped)  # `ignore` stays the opposite of `keep`
    run(context, fresh_sandbox, "imp-3")
    final = imported(engine)
    assert final[mapped] == IgdbMatchStatus.IGNORED.value
    assert listing(engine) == remaining
