"""The wishlist in stages 1 and 2 against the sandbox over HTTP: fetched beside the owned
library, never failing it, and decided in the same bulk requests as the owned apps; and
GetOwnedGames asked so that no owned app is hidden."""

from __future__ import annotations

import asyncio

import pytest
from tests.integration.stages.steam_stage import NOW
from tests.integration.stages.steam_stage import run_stage1 as stage1

from lambdas.clients.s3 import LocalStorage, wishlist_key_for
from lambdas.clients.steam import SteamClient
from lambdas.config import Settings
from lambdas.enrichment.enrich import enrich_library
from lambdas.models.csv_codec import decode_rows
from lambdas.models.rows import EnrichedWishlistRow, MatchStatus, RawGameRow, WishlistRow
from lambdas.models.steam import parse_steam_account
from lambdas.steam.library import (
    OwnedApps,
    SteamImportResult,
    SteamLibrary,
    WishlistOutcome,
    fetch_wishlist,
)
from steam_sandbox import AppKind, Sandbox


def stored_wishlist(storage: LocalStorage, result: SteamImportResult) -> list[WishlistRow]:
    key = storage.key_of(result.location, user_id="user-1")
    sibling = wishlist_key_for(key)
    assert sibling is not None
    return decode_rows(storage.get(storage.location_of(sibling), user_id="user-1"), WishlistRow)


def test_the_wishlist_is_stored_beside_the_raw_csv_with_priority_date_and_owned(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    result = stage1(sandbox_settings, storage, fresh_sandbox.users.small.steamid64)
    expected = fresh_sandbox.wishlist("small")
    rows = stored_wishlist(storage, result)
    assert result.wishlist.outcome is WishlistOutcome.IMPORTED
    assert [(r.appid, r.priority, r.date_added) for r in rows] == [
        (e.app.appid, e.priority, e.date_added) for e in expected
    ]
    assert [r.name for r in rows] == [e.app.name for e in expected]  # the store's names
    owned = {a.appid for a in fresh_sandbox.ground_truth("small")}
    assert [r.owned for r in rows] == [e.app.appid in owned for e in expected]
    assert sum(r.owned for r in rows) == 1
    # The raw CSV holds owned apps only; the wishlist's keyless calls are not the key's budget.
    raw = decode_rows(storage.get(result.location, user_id="user-1"), RawGameRow)
    assert {r.appid for r in raw} == owned
    assert result.steam_requests == 2 and result.wishlist.requests == 2  # GetWishlist, GetItems


def test_an_empty_wishlist_says_so_and_stores_nothing(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    result = stage1(sandbox_settings, storage, fresh_sandbox.users.empty.steamid64)
    assert (result.wishlist.outcome, result.wishlist.rows) == (WishlistOutcome.EMPTY, [])
    assert storage.list_keys("imports/user-1/") == [
        storage.key_of(result.location, user_id="user-1")
    ]


def test_a_private_wishlist_is_told_from_an_empty_one_by_the_profile(
    fresh_sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    hidden = fresh_sandbox.users.private_profile
    assert fresh_sandbox.wishlist(hidden)  # it has one; Steam shows nobody

    async def fetch() -> WishlistOutcome:
        async with SteamClient.from_settings(sandbox_settings) as steam:
            steam_id = parse_steam_account(hidden.steamid64).steam_id64 or 0
            profile = (await steam.get_player_summaries([steam_id]))[steam_id]
            library = SteamLibrary(steam_id64=steam_id, profile=profile, owned=OwnedApps([]))
            return (await fetch_wishlist(steam, library, settings=sandbox_settings)).outcome

    assert asyncio.run(fetch()) is WishlistOutcome.PRIVATE


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("error", "UPSTREAM_UNAVAILABLE"),
        ("rate_limited", "STEAM_RATE_LIMITED"),
        ("malformed", "UPSTREAM_UNAVAILABLE"),
    ],
)
def test_a_failing_wishlist_never_fails_the_owned_import(
    fault: str,
    code: str,
    fresh_sandbox: Sandbox,
    sandbox_settings: Settings,
    storage: LocalStorage,
) -> None:
    fresh_sandbox.set_knobs(steam={"wishlist_fault": fault})
    result = stage1(sandbox_settings, storage, fresh_sandbox.users.small.steamid64)
    assert result.game_count == len(fresh_sandbox.ground_truth("small"))
    assert result.wishlist.outcome is WishlistOutcome.SKIPPED
    assert (result.wishlist.reason or "").startswith(code)
    calls = fresh_sandbox.stats().requests["steam"]["GetWishlist"]
    retried = sandbox_settings.steam_max_attempts if fault != "malformed" else 1
    assert sum(calls.values()) == retried
    assert wishlist_key_for(storage.key_of(result.location, user_id="user-1")) not in (
        storage.list_keys("imports/user-1/")
    )


def test_import_wishlist_false_asks_nothing(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    result = stage1(
        sandbox_settings, storage, fresh_sandbox.users.small.steamid64, import_wishlist=False
    )
    assert result.wishlist.outcome is WishlistOutcome.OFF
    assert "GetWishlist" not in fresh_sandbox.stats().requests["steam"]


def test_unvetted_apps_are_imported_and_free_licenses_only_on_request(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    library = fresh_sandbox.state.libraries.library(fresh_sandbox.users.small)
    unvetted = {g.app.appid for g in library if g.app.unvetted and not g.app.free_sub}
    free_sub = {g.app.appid for g in library if g.app.free_sub}
    assert unvetted and free_sub
    result = stage1(sandbox_settings, storage, fresh_sandbox.users.small.steamid64)
    rows = {
        r.appid for r in decode_rows(storage.get(result.location, user_id="user-1"), RawGameRow)
    }
    assert unvetted <= rows and not free_sub & rows
    opted = stage1(
        sandbox_settings,
        storage,
        fresh_sandbox.users.small.steamid64,
        steam_include_free_sub=True,
    )
    rows = {r.appid for r in decode_rows(storage.get(opted.location, user_id="user-1"), RawGameRow)}
    assert unvetted | free_sub <= rows


def test_stage2_decides_the_wishlist_in_the_owned_apps_requests(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    result = stage1(sandbox_settings, storage, fresh_sandbox.users.small.steamid64)
    fresh_sandbox.reset_stats()
    enriched = asyncio.run(
        enrich_library(
            user_id="user-1",
            location=result.location,
            settings=sandbox_settings,
            storage=storage,
            now=NOW,
        )
    )
    requests = fresh_sandbox.stats().requests
    assert requests["igdb"] == {"multiquery": {"200": 1}}  # owned and wished in one request
    assert requests["steam"] == {"GetItems": {"200": 1}}  # 26 owned + 7 wished < one batch
    stats = enriched.stats
    assert stats.wishlist_items == 8
    assert (
        stats.wishlist_owned
        + stats.wishlist_matched
        + stats.wishlist_unmatched
        + stats.wishlist_filtered
        == stats.wishlist_items
    )
    sibling = wishlist_key_for(storage.key_of(enriched.location, user_id="user-1"))
    assert sibling is not None
    rows = decode_rows(
        storage.get(storage.location_of(sibling), user_id="user-1"), EnrichedWishlistRow
    )
    truth = {e.app.appid: e.app.truth for e in fresh_sandbox.wishlist("small")}
    by_app = {row.appid: row for row in rows}
    for appid, expected in truth.items():
        row = by_app[appid]
        if expected.kind is not AppKind.GAME:
            assert row.match_status is MatchStatus.FILTERED, row  # a wishlisted DLC
        elif not row.owned:
            assert row.match_status is expected.status, row
            assert row.igdb_id == (
                expected.igdb_id if expected.status is MatchStatus.MATCHED else None
            )
    assert any(row.match_status is MatchStatus.UNMATCHED for row in rows)  # unknown to IGDB
    assert [row.priority for row in rows] == sorted(row.priority for row in rows)
