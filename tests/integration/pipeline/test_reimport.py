"""A re-import does only what changed since the last committed import (issue 26): an unchanged
library stops after stage 1, new apps alone go through stage 2, and stage 3 receives and writes
exactly the changed rows. The state it compares with advances only when stage 3 committed."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pydantic_core
from sqlalchemy.engine import Engine
from tests.integration.db.helpers import rows

from lambdas.clients.igdb import reset_process_caches
from lambdas.clients.s3 import read_library_state, wishlist_key_for
from lambdas.models.csv_codec import decode_rows
from lambdas.models.library_state import LIBRARY, WISHLIST
from lambdas.models.rows import EnrichedGameRow, EnrichedWishlistRow, MatchStatus
from lambdas.pipeline import PipelineResult, Stage, import_user_library, run_pipeline
from lambdas.stages import StageContext
from lambdas.state.filtered import list_filtered
from steam_sandbox import Sandbox
from steam_sandbox.library_edit import LibraryEdit

USER = "user-1"
KIND = "medium"


def run(
    context: StageContext, sandbox: Sandbox, import_id: str, user_id: str = USER, **kwargs: Any
) -> PipelineResult:
    return asyncio.run(
        import_user_library(
            context=context,
            user_id=user_id,
            steam_account=str(sandbox.users.by_name(KIND).steamid64),
            import_id=import_id,
            create_user=True,
            **kwargs,
        )
    )


def games_of(context: StageContext, result: PipelineResult) -> list[int]:
    location = result.response(Stage.ENRICH).s3_enriched_location
    enriched = decode_rows(context.storage.get(location, user_id=result.user_id), EnrichedGameRow)
    return [row.appid for row in enriched if row.match_status is not MatchStatus.FILTERED]


def stored(engine: Engine, user_id: str = USER) -> dict[str, dict[str, Any]]:
    return {row["storefrontGameId"]: row for row in rows(engine, "ImportedGame", userId=user_id)}


def filtered_of(engine: Engine) -> set[int]:
    with engine.connect() as connection:
        return {app.app_id for app in list_filtered(connection, USER)}


def requests(sandbox: Sandbox) -> dict[str, int]:
    found = sandbox.stats().requests
    return {
        "GetItems": sum(found.get("steam", {}).get("GetItems", {}).values()),
        "igdb": sum(sum(statuses.values()) for statuses in found.get("igdb", {}).values()),
    }


def test_an_unchanged_library_ends_after_stage_1_with_counts_that_add_up(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    first = run(context, fresh_sandbox, "imp-1")
    assert first.success and not first.unchanged
    before = stored(engine)
    fresh_sandbox.reset_stats()

    again = run(context, fresh_sandbox, "imp-2")

    assert again.success and again.unchanged
    steam, enrich, load = (again.response(stage) for stage in Stage)
    assert steam.unchanged and [run.skipped for run in again.runs] == [False, True, True]
    assert requests(fresh_sandbox) == {"GetItems": 0, "igdb": 0}
    stats = enrich.stats
    assert stats.processed == steam.game_count == stats.matched + stats.unmatched + stats.filtered
    assert stats.reused == stats.matched + stats.unmatched
    assert stats.model_dump(exclude={"reused", "igdb_requests", "store_type_cache_hits",
                                     "store_type_cache_misses", "igdb_cache_hits",
                                     "igdb_cache_misses", "steam_store_calls"}) == \
        first.response(Stage.ENRICH).stats.model_dump(
            exclude={"reused", "igdb_requests", "store_type_cache_hits",
                     "store_type_cache_misses", "igdb_cache_hits", "igdb_cache_misses",
                     "steam_store_calls"})  # fmt: skip
    # no row created, updated or kept
    assert not any(load.stats.model_dump(exclude={"catalogue_verified"}).values())
    assert stored(engine) == before  # updatedAt included: no row was touched
    assert again.as_dict()["unchanged"] is True


def test_new_games_alone_are_decided_and_only_changed_rows_are_written(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    # Another user with the same library tells which apps are games.
    games = games_of(context, run(context, fresh_sandbox, "imp-probe", user_id="probe"))
    new, played = set(games[::50]), set(games[1::25]) - set(games[::50])
    # The earlier library: without the `new` games.
    earlier = run(replace(context, transport=LibraryEdit(hidden=new)), fresh_sandbox, "imp-1")
    assert earlier.success and earlier.response(Stage.ENRICH).changes.full
    before = stored(engine, USER)
    filtered_before = filtered_of(engine)
    assert filtered_before
    fresh_sandbox.reset_stats()

    later = replace(context, transport=LibraryEdit(played=played, last_played=1_900_000_000))
    result = run(later, fresh_sandbox, "imp-2")

    assert result.success and not result.unchanged
    steam, enrich, load = (result.response(stage) for stage in Stage)
    changes = enrich.changes
    assert not changes.full
    assert (changes.new, changes.changed, changes.due) == (len(new), len(played), 0)
    assert changes.new + changes.changed + changes.due + changes.unchanged == steam.game_count
    # Only the new apps were decided (looked up in the shared cache, which the other user's
    # import filled); the changed ones kept their decision. The wishlisted apps the user does not
    # own are decided in the same requests, every run that reaches stage 2 (issue 27).
    stats = enrich.stats
    wished = stats.wishlist_items - stats.wishlist_owned
    assert stats.store_type_cache_hits + stats.store_type_cache_misses == len(new) + wished
    assert stats.reused == stats.matched + stats.unmatched - len(new)
    # Stage 3 received exactly the changed rows and wrote exactly those.
    sent = decode_rows(
        context.storage.get(enrich.s3_changes_location, user_id=USER), EnrichedGameRow
    )
    assert {row.appid for row in sent} == new | played
    assert load.stats.imported_games_created == len(new)
    assert load.stats.imported_games_updated == len(played)
    after = stored(engine)
    for app_id, row in after.items():
        if int(app_id) in played:
            assert row["playtime"] == before[app_id]["playtime"] + 60
            assert row["updatedAt"] > before[app_id]["updatedAt"]
        elif int(app_id) not in new:
            assert row == before[app_id]  # untouched, updatedAt included
    # The filtered list is merged for the apps sent, not replaced by them.
    assert filtered_of(engine) == filtered_before
    # The full enriched CSV is the next checkpoint: every app, with today's values.
    full = decode_rows(
        context.storage.get(enrich.s3_enriched_location, user_id=USER), EnrichedGameRow
    )
    assert len(full) == steam.game_count
    assert all(row.playtime_forever >= 60 for row in full if row.appid in played)

    # The same fetch again: nothing to do.
    assert run(later, fresh_sandbox, "imp-3").unchanged
    # A refresh asks for everything again and sends every row.
    reset_process_caches()
    refreshed = run(later, fresh_sandbox, "imp-4", refresh_metadata=True)
    assert not refreshed.unchanged and refreshed.response(Stage.ENRICH).changes.full
    assert refreshed.response(Stage.ENRICH).stats.igdb_requests > 0
    assert refreshed.response(Stage.LOAD).stats.imported_games_created == 0


def test_an_import_stopped_before_stage_3_leaves_the_state_where_it_was(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    first = run(context, fresh_sandbox, "imp-1")
    games = games_of(context, first)
    played = set(games[:5])
    committed = read_library_state(context.storage, USER)
    assert committed is not None and committed.import_id == "imp-1"
    changed = replace(context, transport=LibraryEdit(played=played))
    steam = asyncio.run(
        run_pipeline(
            first_event={
                "user_id": USER,
                "steam_id64": str(fresh_sandbox.users.by_name(KIND).steamid64),
            },
            context=changed,
            import_id="imp-2",
            until=Stage.ENRICH,  # interrupted: stage 3 never ran
        )
    )
    assert steam.success
    assert read_library_state(context.storage, USER) == committed

    again = run(changed, fresh_sandbox, "imp-3")

    assert again.response(Stage.ENRICH).changes.changed == len(played)
    assert again.response(Stage.LOAD).stats.imported_games_updated == len(played)
    assert read_library_state(context.storage, USER).import_id == "imp-3"
    assert len(stored(engine)) == first.response(Stage.LOAD).stats.imported_games_created


def test_a_passed_reuse_window_makes_the_import_ask_again(
    fresh_sandbox: Sandbox, context: StageContext
) -> None:
    first = run(context, fresh_sandbox, "imp-1")
    unmatched = first.response(Stage.ENRICH).stats.unmatched
    assert unmatched > 0
    later = datetime.now(UTC) + timedelta(hours=context.settings.unmatched_recheck_hours + 1)
    fresh_sandbox.reset_stats()
    reset_process_caches()  # a new container, as a day later

    result = run(replace(context, now=lambda: later), fresh_sandbox, "imp-2")

    assert not result.unchanged
    changes = result.response(Stage.ENRICH).changes
    assert changes.due == unmatched and changes.new == changes.changed == 0
    assert requests(fresh_sandbox)["igdb"] > 0  # the unmatched games were asked again
    state = read_library_state(context.storage, USER)
    assert state is not None and state.unmatched_since == later


def test_an_app_steam_stopped_listing_alone_sends_nothing_to_the_database(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    first = run(context, fresh_sandbox, "imp-1")
    gone = games_of(context, first)[0]
    before = stored(engine)

    result = run(replace(context, transport=LibraryEdit(hidden={gone})), fresh_sandbox, "imp-2")

    steam, enrich, _ = (result.response(stage) for stage in Stage)
    assert not steam.unchanged  # the library differs...
    assert enrich.unchanged and enrich.changes.dropped == 1  # ...but no app is to be written
    assert enrich.changes.unchanged == steam.game_count == enrich.stats.processed
    assert [run.skipped for run in result.runs] == [False, False, True] and result.unchanged
    assert stored(engine) == before  # nothing deleted, nothing touched
    state = read_library_state(context.storage, USER)
    assert state is not None and state.import_id == "imp-1"  # stage 3 did not commit


class WishlistEdit(LibraryEdit):
    """GetWishlist answers without the `unwished` apps (the wishlist before they were added)."""

    def __init__(self, *, unwished: Collection[int]) -> None:
        super().__init__()
        self.unwished = frozenset(unwished)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if "GetWishlist" not in request.url.path or response.status_code != 200:
            return response
        body = pydantic_core.from_json(await response.aread())
        items = body.get("response", {}).get("items") or []
        body["response"]["items"] = [i for i in items if i.get("appid") not in self.unwished]
        return httpx.Response(
            200,
            headers={"content-type": "application/json"},
            content=pydantic_core.to_json(body),
            request=request,
        )


def matched_wishes(context: StageContext, result: PipelineResult) -> list[int]:
    """The wishlisted games a run matched that the user does not own."""
    user = result.user_id
    key = context.storage.key_of(result.response(Stage.ENRICH).s3_enriched_location, user_id=user)
    sibling = wishlist_key_for(key)
    assert sibling is not None
    data = context.storage.get(context.storage.location_of(sibling), user_id=user)
    return [
        row.appid
        for row in decode_rows(data, EnrichedWishlistRow)
        if not row.owned and row.match_status is MatchStatus.MATCHED
    ]


def test_a_changed_wishlist_of_an_unchanged_library_is_not_unchanged(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    # Another user with the same account tells which wishlisted apps are matched games.
    added = matched_wishes(context, run(context, fresh_sandbox, "imp-probe", user_id="probe"))[0]
    earlier = run(
        replace(context, transport=WishlistEdit(unwished={added})), fresh_sandbox, "imp-1"
    )
    assert earlier.success and not earlier.unchanged
    committed = read_library_state(context.storage, USER)
    assert committed is not None and WISHLIST in committed.inputs

    result = run(context, fresh_sandbox, "imp-2")  # the same library; `added` was wishlisted

    assert result.success and not result.unchanged
    steam, enrich, load = (result.response(stage) for stage in Stage)
    assert not steam.unchanged and not enrich.unchanged
    assert [run.skipped for run in result.runs] == [False, False, False]
    changes = enrich.changes
    assert (changes.new, changes.changed, changes.due) == (0, 0, 0)  # the library is as it was
    assert enrich.stats.wishlist_items == earlier.response(Stage.ENRICH).stats.wishlist_items + 1
    assert load.stats.imported_games_created == load.stats.imported_games_updated == 0
    later = read_library_state(context.storage, USER)
    assert later is not None and later.inputs[WISHLIST] != committed.inputs[WISHLIST]
    assert later.inputs[LIBRARY] == committed.inputs[LIBRARY]
    # Now the wishlist is as committed too: the next import ends after stage 1.
    assert run(context, fresh_sandbox, "imp-3").unchanged


def test_a_wishlist_not_fetched_keeps_the_committed_one(
    fresh_sandbox: Sandbox, context: StageContext
) -> None:
    first = run(context, fresh_sandbox, "imp-1")
    assert first.success and first.response(Stage.STEAM).wishlist == "imported"
    committed = read_library_state(context.storage, USER)
    assert committed is not None and WISHLIST in committed.inputs
    fresh_sandbox.set_knobs(steam={"wishlist_fault": "error"})

    again = run(context, fresh_sandbox, "imp-2")

    steam = again.response(Stage.STEAM)
    assert steam.wishlist == "skipped"  # not fetched: not an empty wishlist
    assert again.success and again.unchanged and steam.unchanged
    assert read_library_state(context.storage, USER) == committed


def test_an_import_run_in_parts_says_it_finished_once(
    fresh_sandbox: Sandbox, context: StageContext, captured_logs: list[dict[str, Any]]
) -> None:
    """`import_user_library` runs stage 1 apart from stages 2 and 3 (to refuse a changed Steam
    account first); its log still says `pipeline.finished` once, after the last stage, with
    every stage counted, for a first import and for an unchanged one."""
    first = run(context, fresh_sandbox, "imp-1")
    again = run(context, fresh_sandbox, "imp-2")

    finished = [i for i, event in enumerate(captured_logs) if event["event"] == "pipeline.finished"]
    said = [(captured_logs[i]["success"], captured_logs[i]["stages"]) for i in finished]
    assert said == [(True, 3), (True, 3)]
    assert first.success and again.unchanged
    stages = [i for i, event in enumerate(captured_logs) if event["event"] == "stage.finished"]
    assert finished[-1] > stages[-1]  # after the second import's stage 1, its only stage run
