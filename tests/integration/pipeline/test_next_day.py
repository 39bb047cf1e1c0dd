"""The next day's import (issue 26): unmatched games are due again (UNMATCHED_RECHECK_HOURS
passed) and stage 2 asks IGDB about them, but a game decided as committed is not sent on, so
stage 3 runs no statement while the state still moves on; a game IGDB now matches is written."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from tests.integration.db.helpers import counting_statements
from tests.integration.pipeline.test_reimport import KIND, USER, requests, run, stored

from lambdas.clients.igdb import reset_process_caches
from lambdas.clients.s3 import read_library_state
from lambdas.models.csv_codec import decode_rows
from lambdas.models.rows import EnrichedGameRow, MatchStatus
from lambdas.pipeline import PipelineResult, Stage, run_pipeline
from lambdas.stages import StageContext
from lambdas.state.app_cache import open_app_cache
from steam_sandbox import Sandbox


def enriched_rows(context: StageContext, result: PipelineResult) -> list[EnrichedGameRow]:
    location = result.response(Stage.ENRICH).s3_enriched_location
    return decode_rows(context.storage.get(location, user_id=USER), EnrichedGameRow)


def stages_1_and_2(context: StageContext, sandbox: Sandbox, import_id: str) -> PipelineResult:
    account = str(sandbox.users.by_name(KIND).steamid64)
    return asyncio.run(
        run_pipeline(
            first_event={"user_id": USER, "steam_id64": account},
            context=context,
            import_id=import_id,
            until=Stage.ENRICH,
        )
    )


def stage_3(
    context: StageContext, engine: Engine, enriched: PipelineResult
) -> tuple[PipelineResult, list[str]]:
    """Stage 3 on stage 2's answer, with the statements it sent."""
    event: dict[str, Any] = enriched.response(Stage.ENRICH).model_dump(mode="json")
    with counting_statements(engine) as statements:
        result = asyncio.run(
            run_pipeline(
                first_event=event,
                context=context,
                import_id=enriched.import_id,
                from_stage=Stage.LOAD,
            )
        )
    return result, statements


def next_day(context: StageContext) -> tuple[StageContext, datetime]:
    later = datetime.now(UTC) + timedelta(hours=context.settings.unmatched_recheck_hours + 1)
    reset_process_caches()  # a new container, a day later
    return replace(context, now=lambda: later), later


def sent_rows(context: StageContext, enriched: PipelineResult) -> list[EnrichedGameRow]:
    location = enriched.response(Stage.ENRICH).s3_changes_location
    assert location is not None  # a partial load
    return decode_rows(context.storage.get(location, user_id=USER), EnrichedGameRow)


def test_unmatched_games_asked_again_as_committed_send_nothing_and_the_state_moves_on(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    first = run(context, fresh_sandbox, "imp-1")
    unmatched = first.response(Stage.ENRICH).stats.unmatched
    assert first.success and unmatched > 0
    before = stored(engine)
    fresh_sandbox.reset_stats()
    later_context, later = next_day(context)

    enriched = stages_1_and_2(later_context, fresh_sandbox, "imp-2")

    assert enriched.success and not enriched.unchanged
    enrich = enriched.response(Stage.ENRICH)
    changes = enrich.changes
    assert changes.due == unmatched and changes.new == changes.changed == 0
    assert requests(fresh_sandbox)["igdb"] > 0  # the unmatched games were asked again
    assert enrich.stats.unmatched == unmatched  # ...and IGDB still knows none of them
    assert sent_rows(later_context, enriched) == []  # each decided as committed
    # The enriched CSV holds them with today's decision time: they are not due tomorrow.
    rechecked = [
        r for r in enriched_rows(context, enriched) if r.match_status is MatchStatus.UNMATCHED
    ]
    assert len(rechecked) == unmatched and all(r.enriched_at == later for r in rechecked)

    loaded, statements = stage_3(later_context, engine, enriched)

    assert loaded.success and statements == []  # no transaction, no reflection
    load = loaded.response(Stage.LOAD)
    assert not load.unchanged  # stage 3 ran: it committed the new state
    assert not any(load.stats.model_dump(exclude={"catalogue_verified"}).values())
    assert load.stats.catalogue_verified
    assert stored(engine) == before  # updatedAt included: no row was touched
    state = read_library_state(context.storage, USER)
    assert state is not None and state.import_id == "imp-2" and state.unmatched_since == later
    assert state.enriched_location == enrich.s3_enriched_location
    # An hour on, nothing is due: the import ends after stage 1.
    hour_on = later + timedelta(hours=1)
    assert run(replace(context, now=lambda: hour_on), fresh_sandbox, "imp-3").unchanged


def test_an_unmatched_game_igdb_now_matches_is_sent_and_written(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    first = run(context, fresh_sandbox, "imp-1")
    rows = enriched_rows(context, first)
    found = next(r for r in rows if r.match_status is MatchStatus.MATCHED and r.igdb_id)
    lost = next(r for r in rows if r.match_status is MatchStatus.UNMATCHED)
    assert stored(engine)[str(lost.appid)]["igdbMatchStatus"] == "UNMATCHED"
    later_context, later = next_day(context)
    # IGDB now maps the unmatched app's uid to a game (as another user's look-up stored it).
    cache = open_app_cache(engine)
    answer = cache.get_igdb(
        [found.appid],
        now=datetime.now(UTC),
        positive_ttl=timedelta(days=1),
        negative_ttl=timedelta(days=1),
    )[found.appid]
    assert answer.games
    cache.put_igdb({lost.appid: answer}, now=later)

    enriched = stages_1_and_2(later_context, fresh_sandbox, "imp-2")

    sent = sent_rows(later_context, enriched)
    assert [(r.appid, r.match_status, r.igdb_id) for r in sent] == [
        (lost.appid, MatchStatus.MATCHED, found.igdb_id)
    ]
    loaded, statements = stage_3(later_context, engine, enriched)

    assert loaded.success and statements  # the import's transaction ran
    assert loaded.response(Stage.LOAD).stats.imported_games_updated == 1
    assert stored(engine)[str(lost.appid)]["igdbMatchStatus"] == "MATCHED"
    state = read_library_state(context.storage, USER)
    assert state is not None and state.import_id == "imp-2"


def test_every_window_passed_and_nothing_changed_upstream_sends_nothing(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    # Non-games (decided from the store type, ahead of IGDB's answers) are due again too.
    first = run(context, fresh_sandbox, "imp-1")
    stats = first.response(Stage.ENRICH).stats
    assert stats.filtered > 0 and stats.matched > 0
    before = stored(engine)
    settings = context.settings
    days = max(settings.enrichment_reuse_days, settings.steam_type_ttl_days) + 1
    later = datetime.now(UTC) + timedelta(days=days)
    reset_process_caches()
    later_context = replace(context, now=lambda: later)

    enriched = stages_1_and_2(later_context, fresh_sandbox, "imp-2")

    changes = enriched.response(Stage.ENRICH).changes
    assert changes.due == stats.processed and changes.new == changes.changed == 0
    assert sent_rows(later_context, enriched) == []
    loaded, statements = stage_3(later_context, engine, enriched)
    assert loaded.success and statements == []
    assert stored(engine) == before
    state = read_library_state(context.storage, USER)
    assert state is not None and state.import_id == "imp-2" and state.filtered_since == later
