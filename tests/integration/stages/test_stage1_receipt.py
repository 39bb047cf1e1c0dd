"""Stage 1 is idempotent per import id: its response is stored, and the same import id reuses it
(an SQS redelivery, a re-run sync batch, a batch user's own import) without asking Steam again."""

from __future__ import annotations

import asyncio

from lambdas.clients.s3 import LocalStorage, receipt_key
from lambdas.config import Settings
from lambdas.models.events import SteamImportResponse
from lambdas.stages import STEAM, StageContext
from steam_sandbox import Sandbox

USER = "cuserreceipt0000000000001"


def stage_one(context: StageContext, steam_id64: str, import_id: str) -> SteamImportResponse:
    event = {"user_id": USER, "steam_id64": steam_id64}
    return asyncio.run(STEAM.run(event, context, import_id=import_id))


def owned_games_calls(sandbox: Sandbox) -> int:
    return sandbox.stats().total("steam", "GetOwnedGames", 200)


def test_the_same_import_id_reuses_the_stored_response_and_asks_steam_nothing(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    context = StageContext(settings=sandbox_settings, storage=storage)
    steam_id64 = str(fresh_sandbox.users.by_name("small").steamid64)

    first = stage_one(context, steam_id64, "sync-20261207-a")
    again = stage_one(context, steam_id64, "sync-20261207-a")

    assert owned_games_calls(fresh_sandbox) == 1
    assert first.steam_requests >= 2 and again.steam_requests == 0
    assert again.s3_location == first.s3_location
    assert again.game_count == first.game_count and again.steam_id64 == first.steam_id64
    # Another import id is another import: Steam is asked again, into a CSV of its own.
    other = stage_one(context, steam_id64, "sync-20261208-a")
    assert owned_games_calls(fresh_sandbox) == 2
    assert other.steam_requests >= 2 and other.s3_location != first.s3_location


def test_an_unusable_receipt_is_ignored_and_steam_asked_again(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    context = StageContext(settings=sandbox_settings, storage=storage)
    steam_id64 = str(fresh_sandbox.users.by_name("small").steamid64)
    storage.put(receipt_key(USER, "sync-20261207-b"), b"{not json")

    response = stage_one(context, steam_id64, "sync-20261207-b")

    assert response.success and response.steam_requests >= 2
    assert owned_games_calls(fresh_sandbox) == 1
    stored = SteamImportResponse.model_validate_json(
        storage.get(storage.location_of(receipt_key(USER, "sync-20261207-b")), user_id=USER)
    )
    assert stored.s3_location == response.s3_location  # the good response replaced it
