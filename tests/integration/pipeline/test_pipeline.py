"""The whole import against the sandbox: PostgreSQL + S3, embedded defaults, re-import, review,
incremental enrichment, private profiles and sync."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from tests.integration.databases import empty_tables_at
from tests.integration.db.helpers import count, one, rows
from tests.integration.pipeline.conftest import sandbox_settings_for

from lambdas.clients.igdb import IgdbClient, reset_process_caches
from lambdas.clients.s3 import S3Storage
from lambdas.database.users import connect_steam, ensure_user, linked_steam_id
from lambdas.errors import (
    IgdbGameNotFoundError,
    ImportedGameNotFoundError,
    NotAGameError,
)
from lambdas.models.csv_codec import decode_rows, encode_rows
from lambdas.models.rows import EnrichedGameRow, MatchStatus, RawGameRow
from lambdas.pipeline import (
    PipelineResult,
    Stage,
    import_user_library,
    prepare_database,
    run_pipeline,
)
from lambdas.review.service import ignore_game, link_game, list_unmatched
from lambdas.sql.engine import create_engine
from lambdas.stages import StageContext
from lambdas.sync.service import sync_all
from steam_sandbox import Sandbox

USER = "user-1"


def run(context: StageContext, sandbox: Sandbox, kind: str, **kwargs: Any) -> PipelineResult:
    return asyncio.run(
        import_user_library(
            context=context,
            user_id=kwargs.pop("user_id", USER),
            steam_account=str(sandbox.users.by_name(kind).steamid64),
            import_id=kwargs.pop("import_id", f"imp-{kind}"),
            create_user=kwargs.pop("create_user", True),
            **kwargs,
        )
    )


def data_requests(sandbox: Sandbox) -> int:
    igdb = sandbox.stats().requests.get("igdb", {})
    return sum(sum(statuses.values()) for statuses in igdb.values())


def test_large_user_on_postgresql_and_s3(
    fresh_sandbox: Sandbox,
    pg_migrated_url: str,
    s3_server: str,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    empty_tables_at(pg_migrated_url)
    engine = create_engine(pg_migrated_url)
    settings = sandbox_settings_for(
        fresh_sandbox,
        tmp_path,
        database_url=SecretStr(pg_migrated_url),
        s3_bucket=s3_bucket,
        s3_endpoint_url=s3_server,
    )
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    context = StageContext(settings=settings, storage=S3Storage(s3_bucket, client), engine=engine)
    try:
        first = run(context, fresh_sandbox, "large")
        assert first.success, first.as_dict()
        steam = first.response(Stage.STEAM)
        enrich = first.response(Stage.ENRICH)
        load = first.response(Stage.LOAD)
        assert steam.s3_location.startswith(f"s3://{s3_bucket}/imports/{USER}/")
        assert enrich.s3_enriched_location.startswith(f"s3://{s3_bucket}/imports/{USER}/")
        assert steam.game_count == len(fresh_sandbox.ground_truth("large"))
        games = enrich.stats.matched + enrich.stats.unmatched
        assert count(engine, "ImportedGame") == games == load.stats.imported_games_created
        assert load.stats.library_items_created > 1000
        assert load.stats.wishlist_items_created == enrich.stats.wishlist_matched > 100
        created = load.stats.library_items_created + load.stats.wishlist_items_created
        assert created == count(engine, "LibraryItem")
        assert one(engine, "User", id=USER)["steamId64"] == steam.steam_id64

        fresh_sandbox.reset_stats()
        before = {
            table: count(engine, table)
            for table in ("ImportedGame", "Game", "LibraryItem", "Genre", "Platform", "GameGenre")
        }
        again = run(context, fresh_sandbox, "large", import_id="imp-again")
        assert again.success
        stats = again.response(Stage.LOAD).stats
        assert stats.imported_games_created == stats.games_created == 0
        assert stats.library_items_created == 0
        enriched = decode_rows(
            context.storage.get(again.response(Stage.ENRICH).s3_enriched_location, user_id=USER),
            EnrichedGameRow,
        )
        settled = [row for row in enriched if row.enriched_at is not None]  # games + IGDB-filtered
        assert again.response(Stage.ENRICH).stats.reused == len(settled) >= games
        assert data_requests(fresh_sandbox) == 0
        assert before == {table: count(engine, table) for table in before}
    finally:
        engine.dispose()


def test_embedded_defaults(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    settings = sandbox_settings_for(fresh_sandbox, tmp_path)
    context = StageContext.from_settings(settings)
    prepare_database(settings, context)
    result = run(context, fresh_sandbox, "small")
    assert result.success, result.as_dict()
    database = settings.data_dir / "steam-import.db"
    assert database.exists()
    with sqlite3.connect(database) as connection:
        imported = connection.execute('SELECT count(*) FROM "ImportedGame"').fetchone()[0]
    assert imported == result.response(Stage.LOAD).stats.imported_games_created > 0
    names = sorted(path.name for path in (settings.data_dir / "imports" / USER).iterdir())
    # Stage 1's stored responses (issue 30); the state, written once stage 3 committed.
    assert names[-2:] == ["receipts", "state.json"]
    assert [name.split("-", 2)[2] for name in names[:-2]] == [
        "enriched-wishlist.csv",  # the wishlist beside each stage's CSV, signed like it
        "enriched-wishlist.csv.sig",
        "enriched.csv",
        "enriched.csv.sig",  # stage 2's signature, beside its CSV
        "raw-wishlist.csv",
        "raw.csv",
    ]
    key = settings.data_dir / "enriched-csv.key"  # generated once, private
    assert key.stat().st_mode & 0o777 == 0o600


def test_demo_in_a_fresh_folder(tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "steam-import"
    completed = subprocess.run(
        [str(command), "demo", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    summary = json.loads(completed.stdout)
    assert summary["success"] is True
    assert 450 <= summary["stages"]["steam"]["game_count"] <= 550
    database = tmp_path / ".steam-import" / "steam-import.db"
    with sqlite3.connect(database) as connection:
        items = connection.execute('SELECT count(*) FROM "LibraryItem"').fetchone()[0]
        users = connection.execute('SELECT id FROM "User"').fetchall()
    loaded = summary["stages"]["load"]["stats"]
    assert items == loaded["library_items_created"] + loaded["wishlist_items_created"] > 0
    assert loaded["wishlist_items_created"] > 0
    assert users == [("demo-user",)]


def _summary_rows(printed: str) -> dict[str, str]:
    rows = {}
    for line in printed.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if len(cells) == 2 and cells[0]:
            rows[cells[0]] = cells[1]
    return rows


def test_the_demo_twice_off_a_terminal_explains_itself(tmp_path: Path) -> None:
    """What a newcomer piping the demo sees: whole lines, a summary that adds up, the schema
    event only when the schema changed, and how to keep an emulator up for search and link."""
    command = Path(sys.executable).parent / "steam-import"

    def demo() -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            [str(command), "demo"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
            env={key: value for key, value in os.environ.items() if key != "COLUMNS"},
        )
        assert completed.returncode == 0, completed.stderr[-2000:]
        return completed

    first, second = demo(), demo()
    opening = first.stdout.splitlines()[0]
    assert opening.startswith("Sandbox at ") and opening.endswith("steam-import.db")  # unwrapped
    assert "`steam-import sandbox` in another terminal" in first.stdout
    assert '"db.upgraded"' in first.stderr and '"db.upgraded"' not in second.stderr

    before, after = _summary_rows(first.stdout), _summary_rows(second.stdout)
    for summary in (before, after):
        matched = int(summary["games matched to IGDB"].split()[0])
        unmatched = int(summary["games unmatched"])
        filtered = int(summary["filtered as non-games"])
        assert matched + unmatched + filtered == int(summary["apps in the Steam library"])
        assert int(summary["games (matched + unmatched)"]) == matched + unmatched
        reused = int(summary["reused from the last import (not asked again)"])
        assert int(summary["decided this run"]) + reused == matched + unmatched
    assert (
        after["reused from the last import (not asked again)"]
        == after["games (matched + unmatched)"]
    )
    assert after["IGDB requests"] == "0"
    assert after["imported games created"] == after["added to the library"] == "0"


def test_reimport_adds_and_updates_and_never_deletes(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    full = run(context, fresh_sandbox, "medium")
    assert full.success
    raw_location = full.response(Stage.STEAM).s3_location
    raw = decode_rows(context.storage.get(raw_location, user_id=USER), RawGameRow)
    imported_before = count(engine, "ImportedGame")

    # An earlier, smaller library: a tenth of the games missing, less time played.
    shrunk = [
        row.model_copy(update={"playtime_forever": row.playtime_forever // 2})
        for index, row in enumerate(raw)
        if index % 10
    ]
    location = context.storage.put(
        f"imports/{USER}/00000000T000000000000Z-older-raw.csv", encode_rows(shrunk, RawGameRow)
    )
    partial = asyncio.run(
        run_pipeline(
            first_event={"user_id": USER, "s3_location": location},
            context=context,
            import_id="older",
            from_stage=Stage.ENRICH,
        )
    )
    assert partial.success, partial.as_dict()
    stats = partial.response(Stage.LOAD).stats
    assert stats.imported_games_created == 0
    # Steam's totals only grow: the lower playtimes of this fetch are kept, and counted.
    assert stats.imported_games_updated == 0
    assert stats.playtimes_kept > 0
    assert count(engine, "ImportedGame") == imported_before  # missing games are not deleted

    played = next(row for row in shrunk if row.playtime_forever > 10)
    original = next(row for row in raw if row.appid == played.appid)
    stored = one(engine, "ImportedGame", storefrontGameId=str(played.appid))
    assert stored["playtime"] == original.playtime_forever

    current = run(context, fresh_sandbox, "medium", import_id="current")
    assert current.response(Stage.LOAD).stats.imported_games_updated == 0
    restored = one(engine, "ImportedGame", storefrontGameId=str(played.appid))
    assert restored["playtime"] == original.playtime_forever


def test_incremental_enrichment_and_refresh(fresh_sandbox: Sandbox, context: StageContext) -> None:
    assert run(context, fresh_sandbox, "medium").success
    fresh_sandbox.reset_stats()
    second = run(context, fresh_sandbox, "medium", import_id="second")
    enriched = decode_rows(
        context.storage.get(second.response(Stage.ENRICH).s3_enriched_location, user_id=USER),
        EnrichedGameRow,
    )
    looked_up = [row for row in enriched if row.enriched_at is not None]
    assert second.response(Stage.ENRICH).stats.reused == len(looked_up) > 0
    # Games are reused from the checkpoint; non-games are decided again, from the shared app
    # cache, so they cost no request either.
    assert {row.match_status for row in looked_up} == {MatchStatus.MATCHED, MatchStatus.UNMATCHED}
    assert any(row.match_status is MatchStatus.FILTERED for row in enriched)
    assert data_requests(fresh_sandbox) == 0
    assert "GetItems" not in fresh_sandbox.stats().requests.get("steam", {})
    reset_process_caches()
    refreshed = run(context, fresh_sandbox, "medium", import_id="third", refresh_metadata=True)
    assert refreshed.response(Stage.ENRICH).stats.reused == 0
    assert data_requests(fresh_sandbox) >= 1
    assert refreshed.response(Stage.LOAD).stats.imported_games_created == 0


def test_link_and_ignore(fresh_sandbox: Sandbox, context: StageContext, engine: Engine) -> None:
    assert run(context, fresh_sandbox, "medium").success
    waiting = list_unmatched(engine, context.storage, user_id=USER)
    assert waiting and all(game.app_id for game in waiting)
    with_candidate = next(game for game in waiting if game.candidates)
    plain = next(game for game in waiting if game is not with_candidate)
    items_before = count(engine, "LibraryItem")

    async def link(app_id: int, igdb_id: int) -> Any:
        async with IgdbClient.from_settings(context.settings) as igdb:
            return await link_game(
                engine,
                igdb,
                user_id=USER,
                app_id=app_id,
                igdb_id=igdb_id,
                settings=context.settings,
            )

    target = with_candidate.candidates[0].igdb_id
    linked = asyncio.run(link(with_candidate.app_id, target))
    assert linked.library_item_created
    record = one(engine, "ImportedGame", storefrontGameId=str(with_candidate.app_id))
    assert record["igdbMatchStatus"] == "MATCHED"
    game = one(engine, "Game", igdbId=target)
    assert game["title"] and game["slug"]
    assert count(engine, "LibraryItem") == items_before + 1
    assert asyncio.run(link(with_candidate.app_id, target)).library_item_created is False

    ignore_game(engine, user_id=USER, app_id=plain.app_id)
    assert (
        one(engine, "ImportedGame", storefrontGameId=str(plain.app_id))["igdbMatchStatus"]
        == "IGNORED"
    )

    again = run(context, fresh_sandbox, "medium", import_id="after-review")
    assert again.success
    assert (
        one(engine, "ImportedGame", storefrontGameId=str(plain.app_id))["igdbMatchStatus"]
        == "IGNORED"
    )
    assert (
        one(engine, "ImportedGame", storefrontGameId=str(with_candidate.app_id))["igdbMatchStatus"]
        == "MATCHED"
    )
    assert again.response(Stage.LOAD).stats.library_items_created == 0
    remaining = {game.app_id for game in list_unmatched(engine, context.storage, user_id=USER)}
    assert with_candidate.app_id not in remaining and plain.app_id not in remaining

    with pytest.raises(ImportedGameNotFoundError):
        asyncio.run(link(999_999_999, target))
    with pytest.raises(IgdbGameNotFoundError):
        asyncio.run(link(plain.app_id, 987_654_321))
    dlc = next(
        app.igdb_id
        for app in fresh_sandbox.ground_truth("medium")
        if app.status.value == "FILTERED" and app.igdb_id is not None
    )
    with pytest.raises(NotAGameError):
        asyncio.run(link(plain.app_id, dlc))
    with pytest.raises(ImportedGameNotFoundError):
        ignore_game(engine, user_id=USER, app_id=999_999_999)


def test_private_profile_end_to_end(fresh_sandbox: Sandbox, tmp_path: Path, db_url: str) -> None:
    from typer.testing import CliRunner

    from lambdas.cli import app

    env = {**fresh_sandbox.env(), "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": db_url}
    private = fresh_sandbox.users.private_profile.steamid64
    result = CliRunner().invoke(
        app, ["run", "--user-id", USER, "--steam", str(private), "--create-user"], env=env
    )
    assert result.exit_code == 67, result.output
    assert "PRIVATE_PROFILE" in result.output
    assert "Privacy" in result.output or "privacy" in result.output
    engine = create_engine(db_url)
    try:
        assert count(engine, "ImportedGame") == 0
        assert count(engine, "LibraryItem") == 0
        assert count(engine, "User") == 0  # pit 3: the user --create-user made is gone again
    finally:
        engine.dispose()
    assert not list((tmp_path / "data").rglob("*.csv"))


def test_sync_continues_past_a_failing_user(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    for user_id, kind in (("alice", "small"), ("bob", "private_profile"), ("carol", "empty")):
        ensure_user(engine, user_id=user_id, create=True)
        connect_steam(
            engine, user_id=user_id, steam_id64=fresh_sandbox.users.by_name(kind).steamid64
        )
    ensure_user(engine, user_id="dave", create=True)  # no Steam account: not synced

    counter = iter(range(100))
    summary = asyncio.run(sync_all(context=context, new_import_id=lambda: f"sync-{next(counter)}"))
    outcome = {
        result.user_id: (
            result.success,
            result.failed.response.error_code if result.failed else None,
        )
        for result in summary.results
    }
    assert outcome == {
        "alice": (True, None),
        "bob": (False, "PRIVATE_PROFILE"),
        "carol": (True, None),
    }
    assert (summary.succeeded, summary.failed) == (2, 1)
    # one look-up of every synced app before stage 2: alice's stage 2 only hits the shared cache
    alice = next(result for result in summary.results if result.user_id == "alice")
    enriched = alice.response(Stage.ENRICH).stats
    assert summary.prefetched.store_type_cache_misses == enriched.store_type_cache_hits > 0
    assert summary.prefetched.steam_store_calls > 0
    assert (enriched.store_type_cache_misses, enriched.igdb_cache_misses) == (0, 0)
    assert (enriched.steam_store_calls, enriched.igdb_requests) == (0, 0)
    assert rows(engine, "ImportedGame", userId="bob") == []
    assert len(rows(engine, "ImportedGame", userId="alice")) > 0


def test_another_steam_account_is_refused_unless_relinked(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    first = run(context, fresh_sandbox, "small", import_id="first")
    assert first.success, first.as_dict()
    linked = str(fresh_sandbox.users.by_name("small").steamid64)
    games_before = count(engine, "ImportedGame")

    fresh_sandbox.reset_stats()
    stored_before = sorted(str(path) for path in Path(context.settings.data_dir).rglob("*.csv"))
    refused = run(context, fresh_sandbox, "medium", import_id="other")
    assert refused.failed is not None and refused.failed.stage is Stage.STEAM
    # pit 6: refused before fetching: no Steam request, no CSV stored
    assert fresh_sandbox.stats().requests.get("steam", {}) == {}
    assert sorted(str(p) for p in Path(context.settings.data_dir).rglob("*.csv")) == stored_before
    assert refused.failed.response.error_code == "STEAM_ACCOUNT_CHANGED"
    assert linked in str(refused.failed.response.error)
    assert [run.stage for run in refused.runs] == [Stage.STEAM]  # stages 2 and 3 never ran
    assert count(engine, "ImportedGame") == games_before
    assert linked_steam_id(engine, user_id=USER) == linked

    relinked = run(context, fresh_sandbox, "medium", import_id="relinked", relink=True)
    assert relinked.success, relinked.as_dict()
    assert count(engine, "ImportedGame") > games_before
    medium = str(fresh_sandbox.users.by_name("medium").steamid64)
    assert linked_steam_id(engine, user_id=USER) == medium


def test_sync_in_batches_looks_each_batch_up_once_and_adds_the_counts(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine
) -> None:
    for user_id, kind in (("alice", "small"), ("erin", "small"), ("bob", "private_profile")):
        ensure_user(engine, user_id=user_id, create=True)
        connect_steam(
            engine, user_id=user_id, steam_id64=fresh_sandbox.users.by_name(kind).steamid64
        )
    batched = replace(context, settings=context.settings.model_copy(update={"sync_batch_users": 1}))
    counter = iter(range(100))
    summary = asyncio.run(sync_all(context=batched, new_import_id=lambda: f"sync-{next(counter)}"))
    assert sorted((r.user_id, r.success) for r in summary.results) == [
        ("alice", True),
        ("bob", False),
        ("erin", True),
    ]
    # Three batches of one: the first successful user's look-up fills the cache, so the second
    # one (the same library) asks nothing and only finds its apps there; the counts add up.
    owned = {app.appid for app in fresh_sandbox.ground_truth("small")}
    wished = {e.app.appid for e in fresh_sandbox.wishlist("small")} - owned
    apps = len(owned) + len(wished)  # the wishlisted apps are looked up with the owned ones
    assert summary.prefetched.processed == 2 * apps
    assert summary.prefetched.store_type_cache_misses == apps
    assert summary.prefetched.store_type_cache_hits == apps
    for user_id in ("alice", "erin"):
        assert len(rows(engine, "ImportedGame", userId=user_id)) > 0


def test_sync_goes_on_when_the_shared_look_up_fails(
    fresh_sandbox: Sandbox, context: StageContext, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdas.errors import UpstreamUnavailableError
    from lambdas.sync import service

    async def unavailable(*_args: object) -> object:
        raise UpstreamUnavailableError("IGDB answered 503 to the look-up")

    monkeypatch.setattr(service, "prefetch_shared_cache", unavailable)
    ensure_user(engine, user_id="alice", create=True)
    connect_steam(engine, user_id="alice", steam_id64=fresh_sandbox.users.small.steamid64)
    summary = asyncio.run(sync_all(context=context, new_import_id=lambda: "sync-1"))
    assert summary.succeeded == 1 and summary.prefetched.processed == 0
    enriched = summary.results[0].response(Stage.ENRICH).stats
    assert enriched.steam_store_calls > 0  # its own stage 2 asked instead
    assert len(rows(engine, "ImportedGame", userId="alice")) > 0


def test_a_checkpoint_stage_2_did_not_sign_is_not_reused(
    fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    """A file planted in the user's prefix as the latest enriched CSV is not a checkpoint:
    reusing its rows would sign its made-up IGDB facts as the pipeline's own."""
    from datetime import UTC, datetime

    from lambdas.clients.s3 import enriched_key_for, forget_library_state, raw_key, run_stamp

    settings = sandbox_settings_for(fresh_sandbox, tmp_path)
    context = StageContext.from_settings(settings)
    prepare_database(settings, context)
    first = run(context, fresh_sandbox, "small")
    assert first.success, first.as_dict()
    location = first.response(Stage.ENRICH).s3_enriched_location
    planted = [
        row.model_copy(update={"igdb_name": "HIJACKED"}) if row.igdb_id else row
        for row in decode_rows(context.storage.get(location, user_id=USER), EnrichedGameRow)
    ]
    key = enriched_key_for(raw_key(USER, run_stamp(datetime.now(UTC), "planted")))
    context.storage.put(key, encode_rows(planted, EnrichedGameRow))
    # Without the committed state, stage 2 runs and looks for a checkpoint (with it, the same
    # library ends after stage 1 and nothing is read at all).
    forget_library_state(context.storage, USER)
    again = run(context, fresh_sandbox, "small", import_id="imp-again")
    assert again.success, again.as_dict()
    assert again.response(Stage.ENRICH).stats.reused == 0
    written = decode_rows(
        context.storage.get(again.response(Stage.ENRICH).s3_enriched_location, user_id=USER),
        EnrichedGameRow,
    )
    assert written and not any(row.igdb_name == "HIJACKED" for row in written)
    assert again.response(Stage.LOAD).stats.catalogue_verified is True
    third = run(context, fresh_sandbox, "small", import_id="imp-third")  # a signed checkpoint
    assert third.response(Stage.ENRICH).stats.reused > 0
