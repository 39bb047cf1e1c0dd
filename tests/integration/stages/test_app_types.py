"""Stage 2 with Steam store types and the shared app cache, against the sandbox and a real
database of each backend: request budgets cold and for a second user, and the precedence on the
emulator's hard cases (store-typed traps, IGDB pitfalls, delisted apps, typed playtests)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from lambdas.clients.igdb import reset_process_caches
from lambdas.clients.s3 import LocalStorage, raw_key
from lambdas.config import Settings
from lambdas.models.csv_codec import decode_rows, encode_rows
from lambdas.models.events import (
    IgdbEnrichmentEvent,
    IgdbEnrichmentResponse,
    SteamImportResponse,
)
from lambdas.models.rows import AppKind, EnrichedGameRow, MatchStatus, RawGameRow
from lambdas.stages import StageContext, enrichment_stage, prefetch_shared_cache
from steam_sandbox import Sandbox

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def served(sandbox: Sandbox) -> tuple[int, int]:
    """(GetItems calls, IGDB + Twitch requests) since the last reset."""
    requests = sandbox.stats().requests
    get_items = sum(requests.get("steam", {}).get("GetItems", {}).values())
    igdb = sum(
        count
        for service in ("igdb", "twitch")
        for endpoint in requests.get(service, {}).values()
        for count in endpoint.values()
    )
    return get_items, igdb


def store_raw(storage: LocalStorage, user_id: str, rows: list[RawGameRow], stamp: str) -> str:
    return storage.put(raw_key(user_id, stamp), encode_rows(rows, RawGameRow))


def raw_rows(sandbox: Sandbox, appids: list[int]) -> list[RawGameRow]:
    apps = sandbox.catalogue.apps
    return [RawGameRow(appid=appid, name=apps[appid].name) for appid in appids]


def enrich(
    context: StageContext, user_id: str, location: str, now: datetime = NOW
) -> tuple[IgdbEnrichmentResponse, list[EnrichedGameRow]]:
    reset_process_caches()  # a new process (another Lambda container): only the database is shared
    timed = StageContext(
        settings=context.settings, storage=context.storage, engine=context.engine, now=lambda: now
    )
    response = asyncio.run(
        enrichment_stage(IgdbEnrichmentEvent(user_id=user_id, s3_location=location), timed)
    )
    assert response.s3_enriched_location is not None
    data = context.storage.get(response.s3_enriched_location, user_id=user_id)
    return response, decode_rows(data, EnrichedGameRow)


HIT_COUNTS = (
    "store_type_cache_hits",
    "store_type_cache_misses",
    "igdb_cache_hits",
    "igdb_cache_misses",
)


def hit_counts(response: IgdbEnrichmentResponse) -> dict[str, int]:
    return {name: getattr(response.stats, name) for name in HIT_COUNTS}


def context_for(settings: Settings, engine: Engine) -> StageContext:
    return StageContext(settings=settings, storage=LocalStorage(settings.data_dir), engine=engine)


def test_a_second_user_with_the_same_library_costs_no_requests(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, engine: Engine
) -> None:
    context = context_for(sandbox_settings, engine)
    appids = [app.appid for app in fresh_sandbox.ground_truth("large")]
    rows = raw_rows(fresh_sandbox, appids)
    first = store_raw(context.storage, "user-1", rows, "20261127T120000000000Z-a")
    second = store_raw(context.storage, "user-2", rows, "20261127T120000000000Z-b")
    fresh_sandbox.reset_stats()

    cold, cold_rows = enrich(context, "user-1", first)
    get_items, igdb = served(fresh_sandbox)
    print(f"\n2,000-app library, cold: {get_items} GetItems calls, {igdb} IGDB requests")
    assert get_items <= 25 and igdb <= 2
    assert cold.stats.processed == len(rows)
    # cold: every app looked up in the shared cache and missed (IGDB: those the store left open)
    assert (cold.stats.store_type_cache_hits, cold.stats.store_type_cache_misses) == (0, len(rows))
    assert cold.stats.igdb_cache_hits == 0 and 0 < cold.stats.igdb_cache_misses < len(rows)

    fresh_sandbox.reset_stats()
    warm, warm_rows = enrich(context, "user-2", second, NOW + timedelta(hours=1))
    print(f"second user, same library: {served(fresh_sandbox)} (GetItems, IGDB)")
    assert served(fresh_sandbox) == (0, 0)
    costs = {"igdb_requests", "steam_store_calls", *HIT_COUNTS}
    assert warm.stats.model_dump(exclude=costs) == cold.stats.model_dump(exclude=costs)
    assert (warm.stats.igdb_requests, warm.stats.steam_store_calls) == (0, 0)
    assert hit_counts(warm) == {  # the second user: every look-up a hit
        "store_type_cache_hits": len(rows),
        "store_type_cache_misses": 0,
        "igdb_cache_hits": cold.stats.igdb_cache_misses,
        "igdb_cache_misses": 0,
    }
    assert cold.stats.steam_store_calls == get_items
    drop = {"enriched_at"}
    assert [row.model_dump(exclude=drop) for row in warm_rows] == [
        row.model_dump(exclude=drop) for row in cold_rows
    ]


def test_store_types_expire_after_their_ttl(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, engine: Engine
) -> None:
    context = context_for(sandbox_settings, engine)
    rows = raw_rows(fresh_sandbox, [app.appid for app in fresh_sandbox.ground_truth("small")])
    location = store_raw(context.storage, "user-1", rows, "20261127T120000000000Z-a")
    enrich(context, "user-1", location)
    fresh_sandbox.reset_stats()
    later = NOW + timedelta(days=sandbox_settings.steam_type_ttl_days + 1)
    enrich(context, "user-1", location, later)
    get_items, igdb = served(fresh_sandbox)
    assert get_items == 1 and igdb >= 1  # types and IGDB answers both asked again


def test_precedence_on_the_emulators_hard_cases(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, engine: Engine
) -> None:
    pools = fresh_sandbox.catalogue.pools
    wanted = {tag: pools[tag][:6] for tag in ("store_trap", "igdb_pitfall", "delisted")}
    wanted["store_typed_game"] = pools["store_typed_game"][:6]
    context = context_for(sandbox_settings, engine)
    appids = sorted({appid for ids in wanted.values() for appid in ids})
    location = store_raw(
        context.storage, "user-1", raw_rows(fresh_sandbox, appids), "20261127T120000000000Z-a"
    )
    _, rows = enrich(context, "user-1", location)
    by_id = {row.appid: row for row in rows}
    truth = fresh_sandbox.catalogue.truth
    for appid in wanted["store_trap"]:  # names that trip name rules, typed 0: kept and matched
        row = by_id[appid]
        assert (row.match_status, row.reason, row.igdb_id) == (
            MatchStatus.MATCHED,
            "steam_type=0 + igdb main",
            truth(appid).igdb_id,
        )
    for appid in wanted["igdb_pitfall"]:  # IGDB maps the uid to the main game; Steam wins
        row = by_id[appid]
        assert row.match_status is MatchStatus.FILTERED and row.kind is truth(appid).kind
        assert row.reason.startswith("steam_type=") and row.steam_type in (1, 4, 11)
    for appid in wanted["delisted"]:  # no store type: IGDB, then the name
        row = by_id[appid]
        assert row.steam_type is None and not row.reason.startswith("steam_type")
        assert row.match_status is truth(appid).status
    for appid in wanted["store_typed_game"]:  # typed 0, exact "Playtest"/"Dedicated Server"
        row = by_id[appid]
        assert row.match_status is MatchStatus.FILTERED and row.steam_type == 0
        assert row.reason in (
            "steam_type=0 + name:playtest",
            "steam_type=0 + name:dedicated_server",
        )


def test_a_prefetch_asks_each_app_once_for_many_users(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, engine: Engine
) -> None:
    """What `sync` does between stage 1 and stage 2: one look-up of all users' apps, in full
    batches, so the users' own stage 2 asks nothing and only hits the shared cache."""
    context = context_for(sandbox_settings, engine)
    appids = [app.appid for app in fresh_sandbox.ground_truth("large")]
    libraries = {"user-1": appids[:1_250], "user-2": appids[750:]}  # 500 apps in both
    imported = [
        SteamImportResponse(
            success=True,
            user_id=user_id,
            s3_location=store_raw(
                context.storage, user_id, raw_rows(fresh_sandbox, ids), f"20261127T12000000000{n}Z"
            ),
        )
        for n, (user_id, ids) in enumerate(libraries.items())
    ]
    reset_process_caches()
    fresh_sandbox.reset_stats()
    timed = StageContext(
        settings=context.settings, storage=context.storage, engine=engine, now=lambda: NOW
    )
    prefetched = asyncio.run(prefetch_shared_cache(imported, timed))
    get_items, igdb = served(fresh_sandbox)
    batch = sandbox_settings.steam_store_batch_size
    print(f"\nprefetch of 2 users, {len(appids)} apps: {get_items} GetItems, {igdb} IGDB")
    assert prefetched.processed == len(appids)
    assert get_items == prefetched.steam_store_calls == -(-len(appids) // batch)
    assert (prefetched.store_type_cache_hits, prefetched.store_type_cache_misses) == (
        0,
        len(appids),
    )
    assert igdb == prefetched.igdb_requests <= 2  # one multiquery and the token

    fresh_sandbox.reset_stats()
    for response in imported:
        assert response.s3_location is not None and response.user_id is not None
        stage2, _ = enrich(context, response.user_id, response.s3_location, NOW)
        own = len(libraries[response.user_id])
        assert (stage2.stats.steam_store_calls, stage2.stats.igdb_requests) == (0, 0)
        assert hit_counts(stage2)["store_type_cache_hits"] == own
        assert hit_counts(stage2)["store_type_cache_misses"] == 0
        assert hit_counts(stage2)["igdb_cache_misses"] == 0
    assert served(fresh_sandbox) == (0, 0)


SILENT = "steam_type=0 + igdb silent"


def test_the_silent_quadrant_weighs_the_clues_over_http(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, engine: Engine
) -> None:
    """Typed 0 without an IGDB entry: a tool, a demo, a soundtrack and a video are filtered by
    their names or, under names that say nothing, by the store item's own data from the same
    GetItems call; games with look-alike names stay, unmatched, for review. The second user's
    run reads the same clues from the shared app cache and decides the same."""
    catalogue = fresh_sandbox.catalogue
    pools, apps = catalogue.pools, catalogue.apps
    told = [a for a in pools["silent_nongame"] if a not in set(pools["silent_untold"])]
    wanted: dict[int, AppKind] = {}
    for kind in (AppKind.TOOL, AppKind.DEMO, AppKind.SOUNDTRACK, AppKind.VIDEO):
        named = [a for a in told if apps[a].truth.kind is kind and a not in pools["silent_plain"]]
        plain = [a for a in told if apps[a].truth.kind is kind and a in pools["silent_plain"]]
        assert named and plain, kind
        wanted.update({named[0]: kind, plain[0]: kind})
    lookalikes = pools["silent_game"][:12]
    untold = pools["silent_untold"][:2]
    context = context_for(sandbox_settings, engine)
    rows = raw_rows(fresh_sandbox, [*wanted, *lookalikes, *untold])
    first = store_raw(context.storage, "user-1", rows, "20261127T120000000000Z-a")
    second = store_raw(context.storage, "user-2", rows, "20261127T120000000000Z-b")
    fresh_sandbox.reset_stats()

    response, enriched = enrich(context, "user-1", first)
    assert served(fresh_sandbox)[0] == 1  # the clues came with the types: one GetItems call
    by_id = {row.appid: row for row in enriched}
    for appid, kind in wanted.items():
        row = by_id[appid]
        assert (row.match_status, row.steam_type) == (MatchStatus.FILTERED, 0), row.name
        assert row.reason.startswith(f"{SILENT} + "), row.reason
        plain = appid in pools["silent_plain"]
        if plain:  # the name says nothing: the store item told what it is
            assert "name:" not in row.reason and "store_parent" in row.reason, row.reason
            assert ("store_tag:" in row.reason) or ("store_category:Game demo" in row.reason)
        else:
            assert row.kind is kind and row.reason.startswith(f"{SILENT} + name:"), row.reason
    for appid in lookalikes:
        row = by_id[appid]
        assert (row.match_status, row.reason) == (MatchStatus.UNMATCHED, SILENT), row.name
    for appid in untold:  # no clue says what it is: kept for review, not guessed
        assert (by_id[appid].match_status, by_id[appid].reason) == (MatchStatus.UNMATCHED, SILENT)
    silent_filtered = sum(n for r, n in response.stats.filtered_by_reason.items() if SILENT in r)
    assert silent_filtered == len(wanted) == response.stats.filtered

    fresh_sandbox.reset_stats()
    _, again = enrich(context, "user-2", second, NOW + timedelta(hours=1))
    assert served(fresh_sandbox) == (0, 0)
    drop = {"enriched_at"}
    assert [row.model_dump(exclude=drop) for row in again] == [
        row.model_dump(exclude=drop) for row in enriched
    ]
