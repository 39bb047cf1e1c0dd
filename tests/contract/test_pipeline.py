"""The whole import, stage 1 → 2 → 3, of the target's public library into a throwaway
PostgreSQL database: on the emulator always, on the real services with `-m live`."""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import SecretStr
from tests.contract.targets import Target, igdb_token
from tests.integration.databases import PostgresServer
from tests.integration.db.helpers import count

from lambdas.clients.igdb import process_caches
from lambdas.clients.s3 import LocalStorage
from lambdas.config import Settings
from lambdas.database.schema import upgrade
from lambdas.pipeline import Stage, import_user_library
from lambdas.sql.engine import create_engine
from lambdas.stages import StageContext

USER = "contract-user"
STEAM_REQUESTS = 2  # GetPlayerSummaries, GetOwnedGames
IGDB_REQUESTS = 2  # one multiquery for app ids (+ titles that fit), one for the titles left
STORE_BATCH = 100  # GetItems ids per call, when stage 2 asks the store for types


async def test_a_public_library_goes_through_all_three_stages(
    target: Target, pg_server: PostgresServer, tmp_path: Path
) -> None:
    database_url = pg_server.create()
    upgrade(database_url)
    settings = Settings(
        steam_api_key=SecretStr(target.steam_api_key),
        igdb_client_id=target.igdb_client_id,
        igdb_client_secret=SecretStr(target.igdb_client_secret),
        steam_api_base_url=target.steam_base_url,
        igdb_api_base_url=target.igdb_base_url,
        twitch_token_url=target.twitch_token_url,
        data_dir=tmp_path / "data",
        database_url=SecretStr(database_url),
    )
    # The session's token, as a warm container would hold it: the token has its own test.
    async with target.http() as http:
        token = await igdb_token(target, http)
    process_caches(settings.igdb_cache_ttl_seconds).tokens.put(
        (target.twitch_token_url, target.igdb_client_id), token, ttl=600
    )
    engine = create_engine(database_url)
    context = StageContext(
        settings=settings,
        storage=LocalStorage(settings.data_dir),
        transport=target.transport(),
        engine=engine,
    )
    sent_before = target.traffic.total
    try:
        result = await import_user_library(
            context=context,
            user_id=USER,
            steam_account=target.library_steam_id,
            import_id="contract-run",
            create_user=True,
        )
        assert result.success, result.as_dict()
        steam = result.response(Stage.STEAM)
        stats = result.response(Stage.ENRICH).stats
        load = result.response(Stage.LOAD).stats

        assert steam.steam_id64 == target.library_steam_id
        assert steam.game_count > 0
        assert stats.processed == steam.game_count
        assert stats.matched + stats.unmatched + stats.filtered == stats.processed
        assert stats.matched > 0
        games = stats.matched + stats.unmatched  # non-games stay out of the app's tables
        assert count(engine, "ImportedGame") == load.imported_games_created == games
        assert count(engine, "LibraryItem") == load.library_items_created == stats.matched
    finally:
        engine.dispose()

    sent = target.traffic.total - sent_before
    budget = STEAM_REQUESTS + IGDB_REQUESTS + math.ceil(steam.game_count / STORE_BATCH)
    assert sent <= budget, f"the import sent {sent} requests; at most {budget} expected"
