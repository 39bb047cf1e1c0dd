"""The fault matrix: every fault ends in success or a typed error with its code, the
database holds the whole import or none of it, and a retry ends in the same state as a clean run.

Upstream faults come from the sandbox's knobs over real HTTP; storage faults from stopping a real
moto S3 server; database faults from terminating the PostgreSQL backend mid-transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from tests.reliability.support import (
    BackendKiller,
    Figures,
    Harness,
    Snapshot,
    differences,
    outcome,
    rows_in,
    rows_missing,
    snapshot,
)

from lambdas.clients.s3 import storage_from_settings
from lambdas.pipeline import PipelineResult, Stage
from lambdas.sql.engine import create_engine

#: The issue's 429 storm lasts 10 s; scaled down to 2 s here (several whole runs still fall
#: inside it, and the retry policy sees the same shape of failures).
STORM_SECONDS = 2.0
TRANSIENT_UPSTREAM = {"UPSTREAM_UNAVAILABLE"}


def survive(
    harness: Harness,
    figures: Figures,
    clean: Snapshot,
    result: PipelineResult,
    *,
    allowed: set[str],
    before: Snapshot,
    clear_fault: Callable[[], None] = lambda: None,
    retry_context: Any = None,
) -> str:
    """The three checks of every fault: typed outcome, whole-or-none, retry equals a clean run.

    A run that succeeded while Steam's store was down decided some apps without it (issue 25:
    reversible, and said in its stats); the next run, with the store back, must equal a clean
    run.
    """
    code = outcome(result)
    assert code in allowed | {"success"}, result.as_dict()
    if code != "success":
        assert result.failed is not None and result.failed.transient, result.as_dict()
    state = harness.snapshot()
    degraded = result.success and _store_unavailable(result) > 0
    if not degraded:
        expected_now = clean if result.success else before
        assert state == expected_now, differences(expected_now, state)
    clear_fault()
    if not result.success:
        result = harness.retry(result, context=retry_context)
        assert outcome(result) == "success", result.as_dict()
    elif degraded:
        result = harness.run(context=retry_context)
        assert outcome(result) == "success", result.as_dict()
        assert _store_unavailable(result) == 0, result.as_dict()
    final = harness.snapshot()
    figures.record_rows_lost(rows_missing(clean, final), checked=rows_in(clean))
    if degraded:
        # Nothing lost; an app the store-less run kept as a game keeps its ImportedGame row
        # (a later filter never deletes the user's rows), nothing else differs.
        found = differences(clean, final)
        assert all(not change["missing"] for change in found.values()), found
        assert set(found) <= {"ImportedGame"}, found
    else:
        assert final == clean, differences(clean, final)
    return code


def _store_unavailable(result: PipelineResult) -> int:
    """Apps stage 2 decided without Steam's store because GetItems failed."""
    enriched = result.response(Stage.ENRICH)
    return int(enriched.stats.store_unavailable) if enriched is not None else 0


# -- IGDB ----------------------------------------------------------------------------------------


def test_igdb_429_storm(harness: Harness, clean_state: Snapshot, reliability: Figures) -> None:
    """Half of IGDB's answers are 429 for STORM_SECONDS; imports keep running through it."""
    context = harness.context(igdb_cache_ttl_seconds=0)  # every run really asks IGDB
    storm_over = threading.Event()
    results: list[PipelineResult] = []

    def end_storm() -> None:
        harness.sandbox.set_knobs(igdb={"burst_429_rate": 0.0})

    def storm_was_felt() -> bool:
        return harness.sandbox.stats().rate_limited.get("igdb", 0) > 0

    with reliability.fault("igdb: 429 storm (50% for 2 s)"):
        harness.sandbox.set_knobs(igdb={"burst_429_rate": 0.5})
        timer = threading.Timer(STORM_SECONDS, storm_over.set)
        timer.start()
        try:
            # The storm lasts STORM_SECONDS, and on a slow machine until it has hit at least once
            # (a run makes only a couple of IGDB requests, each with even odds).
            while len(results) < 30 and not (storm_over.is_set() and storm_was_felt()):
                before = harness.snapshot()
                result = harness.run(context=context, refresh=True)
                assert outcome(result) in {"success", "IGDB_RATE_LIMITED"}, result.as_dict()
                state = harness.snapshot()
                expected = clean_state if result.success else before
                assert state == expected, differences(expected, state)
                results.append(result)
        finally:
            timer.cancel()
            end_storm()
        assert storm_was_felt()  # the storm was real
        for result in results:
            if not result.success:
                assert outcome(harness.retry(result, context=context)) == "success"
        final = harness.snapshot()
        reliability.record_rows_lost(rows_missing(clean_state, final), checked=rows_in(clean_state))
        assert final == clean_state, differences(clean_state, final)


@pytest.mark.parametrize(
    ("name", "knobs", "allowed"),
    [
        ("igdb: 5xx burst (50%)", {"error_rate": 0.5}, TRANSIENT_UPSTREAM),
        ("igdb: 5xx outage (100%)", {"error_rate": 1.0}, TRANSIENT_UPSTREAM),
        (
            "igdb: 5xx outage incl. 504 and Retry-After",
            {"error_rate": 1.0, "error_statuses": [502, 504], "retry_after_seconds": 0},
            TRANSIENT_UPSTREAM,
        ),
        ("igdb: 429 persistent", {"burst_429_rate": 1.0}, {"IGDB_RATE_LIMITED"}),
    ],
    ids=["5xx-burst", "5xx-outage", "5xx-504-retry-after", "429-persistent"],
)
def test_igdb_errors(
    name: str,
    knobs: dict[str, Any],
    allowed: set[str],
    harness: Harness,
    clean_state: Snapshot,
    reliability: Figures,
) -> None:
    with reliability.fault(name):
        before = harness.snapshot()
        harness.sandbox.set_knobs(igdb=knobs)
        result = harness.run()
        if knobs.get("error_rate") == 1.0 or knobs.get("burst_429_rate") == 1.0:
            assert result.failed is not None and result.failed.stage is Stage.ENRICH
            assert not [key for key in harness.stored_keys() if key.endswith("-enriched.csv")]
        survive(
            harness,
            reliability,
            clean_state,
            result,
            allowed=allowed,
            before=before,
            clear_fault=harness.sandbox.reset,
        )


def test_igdb_429_with_a_huge_retry_after(
    harness: Harness, clean_state: Snapshot, reliability: Figures
) -> None:
    """`Retry-After: 100000` went straight into the limiter's pause: stage 2 slept 28 hours. A
    wait longer than RETRY_MAX_WAIT_SECONDS is now IGDB_RATE_LIMITED at once (transient, so Step
    Functions waits and retries the stage). Run in a daemon thread so the old code fails the test
    instead of hanging the suite."""
    with reliability.fault("igdb: 429 with Retry-After 100000"):
        before = harness.snapshot()
        harness.sandbox.set_knobs(igdb={"burst_429_rate": 1.0, "retry_after_seconds": 100_000})
        finished: list[PipelineResult] = []
        worker = threading.Thread(target=lambda: finished.append(harness.run()), daemon=True)
        worker.start()
        worker.join(timeout=60)
        assert finished, "stage 2 is still waiting on IGDB's Retry-After"
        result = finished[0]
        assert result.failed is not None and result.failed.stage is Stage.ENRICH
        assert "RETRY_MAX_WAIT_SECONDS" in (result.failed.response.error or "")
        # Ended within the cap: one 429 was enough, no pause was taken.
        assert result.failed.seconds < 30, result.failed.seconds
        print(f"huge Retry-After: stage 2 ended in {result.failed.seconds:.2f} s")  # figure
        survive(
            harness,
            reliability,
            clean_state,
            result,
            allowed={"IGDB_RATE_LIMITED"},
            before=before,
            clear_fault=harness.sandbox.reset,
        )


@pytest.mark.parametrize("probability", [1.0, 0.5], ids=["always", "half"])
def test_igdb_hangs_past_the_client_timeout(
    probability: float, harness: Harness, clean_state: Snapshot, reliability: Figures
) -> None:
    with reliability.fault(f"igdb: responses hang past the timeout ({probability:.0%})"):
        context = harness.context(http_read_timeout=0.3, igdb_max_attempts=3)
        before = harness.snapshot()
        harness.sandbox.set_knobs(igdb={"hang_probability": probability, "hang_seconds": 1.0})
        result = harness.run(context=context)
        if probability == 1.0:
            assert outcome(result) == "UPSTREAM_UNAVAILABLE"
        survive(
            harness,
            reliability,
            clean_state,
            result,
            allowed=TRANSIENT_UPSTREAM,
            before=before,
            clear_fault=harness.sandbox.reset,
        )


def test_igdb_token_revoked_mid_run(
    harness: Harness, clean_state: Snapshot, reliability: Figures
) -> None:
    """The cached token is revoked while a run is under way: one 401, one refresh, success."""
    context = harness.context(igdb_cache_ttl_seconds=0)
    first = harness.run(context=context)
    assert first.success
    harness.sandbox.reset_stats()

    def revoke(stage: Stage) -> None:
        if stage is Stage.ENRICH:
            assert harness.sandbox.revoke_tokens() >= 1

    with reliability.fault("igdb: token revoked mid-run"):
        before = harness.snapshot()
        result = harness.run(context=context, on_stage=revoke, refresh=True)
        assert outcome(result) == "success", result.as_dict()
        stats = harness.sandbox.stats()
        assert stats.requests["igdb"]["multiquery"].get("401") == 1
        assert stats.tokens_issued == 1
        survive(harness, reliability, clean_state, result, allowed=set(), before=before)


def test_twitch_token_endpoint_down(
    harness: Harness, clean_state: Snapshot, reliability: Figures
) -> None:
    with reliability.fault("twitch: token endpoint 5xx"):
        before = harness.snapshot()
        harness.sandbox.set_knobs(twitch={"error_rate": 1.0})
        result = harness.run()
        assert outcome(result) == "UPSTREAM_UNAVAILABLE"
        survive(
            harness,
            reliability,
            clean_state,
            result,
            allowed=TRANSIENT_UPSTREAM,
            before=before,
            clear_fault=harness.sandbox.reset,
        )


# -- Steam ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "knobs", "allowed"),
    [
        ("steam: 5xx burst (50%)", {"error_rate": 0.5}, TRANSIENT_UPSTREAM),
        ("steam: 5xx outage (100%)", {"error_rate": 1.0}, TRANSIENT_UPSTREAM),
        ("steam: 429 burst (50%)", {"burst_429_rate": 0.5}, {"STEAM_RATE_LIMITED"}),
        ("steam: 429 persistent", {"burst_429_rate": 1.0}, {"STEAM_RATE_LIMITED"}),
        (
            "steam: timeouts (100%)",
            {"hang_probability": 1.0, "hang_seconds": 3.0},
            TRANSIENT_UPSTREAM,
        ),
        (
            "steam: timeouts (50%)",
            {"hang_probability": 0.5, "hang_seconds": 3.0},
            TRANSIENT_UPSTREAM,
        ),
    ],
    ids=["5xx-burst", "5xx-outage", "429-burst", "429-persistent", "timeout-all", "timeout-half"],
)
def test_steam_errors(
    name: str,
    knobs: dict[str, Any],
    allowed: set[str],
    harness: Harness,
    clean_state: Snapshot,
    reliability: Figures,
) -> None:
    with reliability.fault(name):
        # A read timeout well under the hang (3 s), yet long enough that stage 2's own calls to a
        # loaded machine's emulator never reach it: only Steam's hangs may end the run. Each hang
        # costs the run this timeout, so it is no longer than that needs.
        hangs = "hang_seconds" in knobs
        context = harness.context(http_read_timeout=1.0) if hangs else harness.context()
        before = harness.snapshot()
        harness.sandbox.set_knobs(steam=knobs)
        result = harness.run(context=context)
        if not result.success:
            # Stage 2 asks Steam too (GetItems, for app types): a fault may end it there instead.
            assert result.failed is not None
            assert result.failed.stage in (Stage.STEAM, Stage.ENRICH)
            if result.failed.stage is Stage.STEAM:
                assert harness.stored_keys() == []  # nothing stored by a failed stage 1
        survive(
            harness,
            reliability,
            clean_state,
            result,
            allowed=allowed,
            before=before,
            clear_fault=harness.sandbox.reset,
        )


# -- object storage ------------------------------------------------------------------------------


@pytest.fixture
def own_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedMotoServer]:
    """A moto S3 server this test may stop and start again on the same port."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield server
    server.stop()


def _restart(server: ThreadedMotoServer, port: int) -> ThreadedMotoServer:
    again = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    again.start()
    return again


@pytest.mark.parametrize("stop_before", [Stage.STEAM, Stage.ENRICH, Stage.LOAD])
def test_s3_server_stopped_mid_run(
    stop_before: Stage,
    own_s3: ThreadedMotoServer,
    harness: Harness,
    clean_state: Snapshot,
    reliability: Figures,
    request: pytest.FixtureRequest,
) -> None:
    """The S3 server goes away just before a stage starts (stage 1 then fails to write, stages 2
    and 3 to read); the import stops with STORAGE_UNAVAILABLE and resumes once S3 is back."""
    host, port = own_s3.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    bucket = f"rel-stop-{stop_before.value}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    context = harness.context(s3_bucket=bucket, s3_endpoint_url=endpoint)
    context = type(context)(
        settings=context.settings,
        storage=storage_from_settings(context.settings),
        engine=harness.engine,
    )
    harness.storage = context.storage
    servers = [own_s3]

    def stop(stage: Stage) -> None:
        if stage is stop_before:
            servers[-1].stop()

    def restart() -> None:
        servers.append(_restart(servers[-1], port))
        request.addfinalizer(servers[-1].stop)

    with reliability.fault(f"s3: server stopped before {stop_before.value}"):
        before = harness.snapshot()
        result = harness.run(context=context, on_stage=stop)
        assert outcome(result) == "STORAGE_UNAVAILABLE", result.as_dict()
        assert result.failed is not None and result.failed.stage is stop_before
        survive(
            harness,
            reliability,
            clean_state,
            result,
            allowed={"STORAGE_UNAVAILABLE"},
            before=before,
            clear_fault=restart,
            retry_context=context,
        )


# -- PostgreSQL ----------------------------------------------------------------------------------


KILL_POINTS = {
    "advisory-lock": "pg_advisory_xact_lock",
    "imported-games": 'INSERT INTO "ImportedGame"',
    "games": 'INSERT INTO "Game" ',
    "genre-links": 'INSERT INTO "GameGenre"',
    "library-items": 'INSERT INTO "LibraryItem"',
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_postgres_backend_terminated_mid_transaction(
    point: str, harness: Harness, clean_state: Snapshot, reliability: Figures
) -> None:
    with reliability.fault(f"postgres: backend terminated at {point}"):
        before = harness.snapshot()
        with BackendKiller(harness.engine, harness.db_url, KILL_POINTS[point]) as killer:
            result = harness.run()
        assert killer.fired
        assert outcome(result) == "DATABASE_UNAVAILABLE", result.as_dict()
        assert result.failed is not None and result.failed.stage is Stage.LOAD
        survive(
            harness,
            reliability,
            clean_state,
            result,
            allowed={"DATABASE_UNAVAILABLE"},
            before=before,
        )


def test_postgres_backend_terminated_during_a_reimport(
    harness: Harness, clean_state: Snapshot, reliability: Figures
) -> None:
    """A re-import that would change every playtime is killed halfway: not one playtime changes;
    the retry changes all of them and nothing else."""
    from lambdas.models.csv_codec import decode_rows, encode_rows
    from lambdas.models.rows import EnrichedGameRow

    first = harness.run()
    assert first.success and harness.snapshot() == clean_state
    location = first.response(Stage.ENRICH).s3_enriched_location
    rows = decode_rows(harness.storage.get(location, user_id=first.user_id), EnrichedGameRow)
    bumped = [row.model_copy(update={"playtime_forever": row.playtime_forever + 7}) for row in rows]
    key = harness.storage.key_of(location, user_id=first.user_id).replace(
        "-enriched.csv", "-replayed-enriched.csv"
    )
    replayed = harness.storage.put(key, encode_rows(bumped, EnrichedGameRow))
    event_ = {"user_id": first.user_id, "s3_enriched_location": replayed}
    with reliability.fault("postgres: backend terminated during a re-import"):
        with BackendKiller(harness.engine, harness.db_url, 'INSERT INTO "LibraryItem"') as killer:
            result = harness.run(from_stage=Stage.LOAD, event=event_)
        assert killer.fired and outcome(result) == "DATABASE_UNAVAILABLE"
        state = harness.snapshot()
        assert state == clean_state, differences(clean_state, state)  # none of the re-import
        retried = harness.retry(result)
        assert retried.success
        final = harness.snapshot()
        expected = {
            **clean_state,
            "ImportedGame": sorted(
                ((*row[:4], row[4] + 7, *row[5:]) for row in clean_state["ImportedGame"]),
                key=repr,
            ),
        }
        assert final == expected, differences(expected, final)  # all of it
        reliability.record_rows_lost(rows_missing(expected, final), checked=rows_in(expected))
        assert retried.response(Stage.LOAD).stats.imported_games_updated == len(
            clean_state["ImportedGame"]
        )


def test_postgres_unreachable_then_back(
    harness: Harness, clean_state: Snapshot, reliability: Figures
) -> None:
    """A database that refuses connections (wrong port) fails stage 3 only, transiently."""
    closed = make_url(harness.db_url).set(port=1).render_as_string(hide_password=False)
    unreachable = create_engine(closed)
    context = harness.context(database_url=SecretStr(closed))
    context = type(context)(settings=context.settings, storage=harness.storage, engine=unreachable)
    with reliability.fault("postgres: connection refused"):
        before = harness.snapshot()
        result = harness.run(context=context)
        assert outcome(result) == "DATABASE_UNAVAILABLE", result.as_dict()
        survive(
            harness,
            reliability,
            clean_state,
            result,
            allowed={"DATABASE_UNAVAILABLE"},
            before=before,
        )
    unreachable.dispose()


def test_snapshot_ignores_ids_and_times_only(harness: Harness, clean_state: Snapshot) -> None:
    """The comparison the matrix relies on does see a lost row and a changed value."""
    assert harness.run().success
    state = snapshot(harness.engine)
    assert state == clean_state
    with harness.engine.begin() as connection:
        connection.exec_driver_sql(
            'DELETE FROM "LibraryItem" WHERE id = (SELECT min(id) FROM "LibraryItem")'
        )
        connection.exec_driver_sql(
            "UPDATE \"Game\" SET title = title || '!' "
            'WHERE "igdbId" = (SELECT min("igdbId") FROM "Game")'
        )
    changed = snapshot(harness.engine)
    assert rows_missing(clean_state, changed) == 2
    assert set(differences(clean_state, changed)) >= {"LibraryItem", "Game"}


def test_postgres_stalled_connection_is_unavailable_within_the_timeout(
    harness: Harness, reliability: Figures
) -> None:
    """A server that accepts TCP and never answers made `load` wait forever; the connect timeout
    (DATABASE_CONNECT_TIMEOUT, 2 s here) now ends it in DATABASE_UNAVAILABLE, retryable."""
    import socket
    import time

    from lambdas.sql.engine import DatabaseTimeouts

    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    port = listener.getsockname()[1]
    stalled = make_url(harness.db_url).set(port=port).render_as_string(hide_password=False)
    engine = create_engine(stalled, DatabaseTimeouts(connect=2))
    first = harness.run(kind="small")
    assert first.success
    event_ = {
        "user_id": first.user_id,
        "s3_enriched_location": first.response(Stage.ENRICH).s3_enriched_location,
    }
    context = StageContextFor(harness, engine)
    with reliability.fault("postgres: connection stalls (TCP open, no answer)"):
        before = harness.snapshot()
        finished: list[PipelineResult] = []
        started = time.perf_counter()
        worker = threading.Thread(
            target=lambda: finished.append(
                harness.run(from_stage=Stage.LOAD, event=event_, context=context)
            ),
            daemon=True,
        )
        worker.start()
        worker.join(timeout=30)
        assert finished, "stage 3 is still waiting on a stalled database"
        elapsed = time.perf_counter() - started
        print(f"stalled database: DATABASE_UNAVAILABLE after {elapsed:.2f} s")  # figure
        assert outcome(finished[0]) == "DATABASE_UNAVAILABLE", finished[0].as_dict()
        assert finished[0].failed is not None and finished[0].failed.transient
        assert elapsed < 2 * 2 + 3, elapsed  # within the configured timeout (one retry of libpq)
        assert harness.snapshot() == before
    engine.dispose()
    listener.close()


def StageContextFor(harness: Harness, engine: Any) -> Any:
    from lambdas.stages import StageContext

    return StageContext(settings=harness.settings, storage=harness.storage, engine=engine)


@pytest.mark.parametrize("command", ["db check", "load"])
def test_postgres_silent_after_the_handshake_ends_by_the_watchdog(
    harness: Harness, reliability: Figures, command: str
) -> None:
    """A proxy passes PostgreSQL's first 1,000 bytes (the handshake), then holds the connection
    open and silent: a hung pooler. `db check` and `load` waited until killed (150 s in the
    probe); the client-side watchdog (DATABASE_STATEMENT_TIMEOUT + 5 s) now closes the connection
    and the command ends DATABASE_UNAVAILABLE, retryable, with nothing written."""
    import json

    from tests.reliability.stalls import SilentAfterProxy
    from typer.testing import CliRunner

    from lambdas.cli import app

    url = make_url(harness.db_url)
    first = harness.run(kind="small")
    assert first.success
    location = first.response(Stage.ENRICH).s3_enriched_location
    args = {
        "db check": ["db", "check", "--json"],
        "load": ["load", "--user-id", first.user_id, "--location", location, "--json"],
    }[command]
    with (
        reliability.fault(f"postgres: silent after the handshake ({command})"),
        SilentAfterProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy,
    ):
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        env = {
            **harness.sandbox.env(),
            "DATA_DIR": str(harness.settings.data_dir),
            "DATABASE_URL": proxied,
            "DATABASE_STATEMENT_TIMEOUT": "1",
            "DATABASE_KEEPALIVE_SECONDS": "5",
        }
        before = harness.snapshot()
        finished: list[Any] = []
        worker = threading.Thread(
            target=lambda: finished.append(CliRunner().invoke(app, args, env=env)), daemon=True
        )
        worker.start()
        worker.join(timeout=120)  # a hang guard only: the watchdog ends it long before
        assert finished, f"`{command}` is still waiting on a silent database"
        assert proxy.held.is_set()  # the stall happened after the handshake, as in the probe
        body = json.loads(finished[0].stdout)
        assert finished[0].exit_code == 75, finished[0].output
        assert body["error_code"] == "DATABASE_UNAVAILABLE", body
        assert "no answer within 6 s" in body["error"], body  # the watchdog, not libpq, ended it
        assert harness.snapshot() == before
