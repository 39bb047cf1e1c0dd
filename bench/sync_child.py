"""Child process of `sync-sim`: one run of the real `sync` path (`sync_all`), as one invocation.

Run as `python -m bench.sync_child SPEC.json OUT.json`; a fresh process is a cold container, so
its in-process IGDB cache starts empty and its peak RSS is the sync's alone (no emulator). With
`"per_user": true` in the spec it runs the users' imports one by one as the SQS fan-out would
(no prefetch), instead of `sync_all`. With `"aws_batch": true` it runs the scheduled sync as
deployed: the scheduler's handler plans the batches, and each batch execution's steps
(infra/statemachine/sync.asl.json) call the Lambda handlers in their order, one after another.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.measure import StatementCounter, peak_rss_mb
from lambdas.clients.igdb import process_caches, reset_process_caches
from lambdas.clients.s3 import LocalStorage
from lambdas.config import Settings
from lambdas.errors import PipelineError
from lambdas.logging import configure_logging
from lambdas.models.events import EnrichmentStats, Stage, StageResponse
from lambdas.pipeline import PipelineResult, StageRun, run_pipeline
from lambdas.sql.engine import create_engine
from lambdas.stages import STAGES, StageContext
from lambdas.sync.service import SyncSummary, list_sync_requests, sync_all

#: Stage 2's own counts, summed over the users of one sync.
STAGE2_COUNTS = (
    "steam_store_calls",
    "igdb_requests",
    "store_type_cache_hits",
    "store_type_cache_misses",
    "igdb_cache_hits",
    "igdb_cache_misses",
)


def prepare(spec: dict[str, Any]) -> tuple[StageContext, StatementCounter]:
    """The sync's settings, storage, database (its statements counted) and clock."""
    settings = Settings(
        **{name.lower(): value for name, value in spec["sandbox_env"].items()},
        data_dir=Path(spec["work_dir"]),
        database_url=spec["database_url"],
        **spec.get("settings", {}),
    )
    engine = create_engine(spec["database_url"])
    counter = StatementCounter(label="sync").attach(engine)
    offset = timedelta(hours=spec.get("clock_offset_hours", 0))  # the next day, say
    context = StageContext(
        settings=settings,
        storage=LocalStorage(Path(spec["storage_dir"])),
        engine=engine,
        now=lambda: datetime.now(UTC) + offset,
    )
    return context, counter


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    context, counter = prepare(spec)
    started = time.perf_counter()
    if spec.get("per_user"):
        summary = await per_user(context)
    else:
        summary = await sync_all(context=context, new_import_id=lambda: uuid.uuid4().hex)
    return figures(summary, context, counter, wall=time.perf_counter() - started)


def figures(
    summary: SyncSummary,
    context: StageContext,
    counter: StatementCounter,
    *,
    wall: float,
    **extra: Any,
) -> dict[str, Any]:
    apps = process_caches(context.settings.igdb_cache_ttl_seconds).apps
    failures = Counter(
        str(result.as_dict()["error_code"]) for result in summary.results if not result.success
    )
    context.database().dispose()
    stage2 = [
        result.response(Stage.ENRICH).stats
        for result in summary.results
        if result.response(Stage.ENRICH) is not None
    ]
    return {
        "users": len(summary.results),
        "succeeded": summary.succeeded,
        "failed": summary.failed,
        "failures": dict(failures),
        "wall_s": round(wall, 2),
        "sql_statements": counter.take().get("sync", 0),
        "peak_rss_mb": peak_rss_mb(),
        "app_cache": {"hits": apps.hits, "misses": apps.misses},  # IGDB client, in-process
        "prefetch": summary.prefetched.model_dump(),
        "stage2": {name: sum(getattr(stats, name) for stats in stage2) for name in STAGE2_COUNTS},
        **extra,
    }


async def per_user(context: StageContext) -> SyncSummary:
    """One whole import per user, each its own execution (the SQS fan-out: on-demand imports,
    and the scheduled sync on AWS before its batches), whose stage 2 may run in any container,
    so no prefetch and (an upper bound) a cold in-process IGDB cache for every user; only the
    shared app cache in the database is common."""
    summary = SyncSummary()
    for event in list_sync_requests(settings=context.settings, engine=context.database()):
        reset_process_caches()
        summary.results.append(
            await run_pipeline(
                first_event=event.model_dump(exclude_none=True),
                context=context,
                import_id=uuid.uuid4().hex,
            )
        )
    return summary


@dataclass(frozen=True, slots=True)
class Invocation:
    """The Lambda context object the handlers read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(slots=True)
class BatchExecutions:
    """Step Functions as the scheduler's handler calls it: each batch execution it starts is
    kept (name, input), to be run here."""

    started: list[tuple[str, str]] = field(default_factory=list)

    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> dict[str, str]:
        self.started.append((name, input))
        return {"executionArn": f"{stateMachineArn}:{name}"}


@dataclass(frozen=True, slots=True)
class ExecutionNames:
    """Step Functions' rule that an execution name is used once per state machine, kept across
    the sync processes of a phase (and the phases after) as one file per name."""

    folder: Path

    def claim(self, name: str) -> bool:
        """True for the first start of this name; False where the execution already exists
        (ImportEach's Catch of StepFunctions.ExecutionAlreadyExistsException)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(self.folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True


Handler = Callable[..., dict[str, Any]]


def aws_batch(spec: dict[str, Any]) -> dict[str, Any]:
    """The scheduled sync as deployed: the scheduler's handler, then each batch execution.

    Each batch runs the steps of infra/statemachine/sync.asl.json through the Lambda handlers,
    in this process and one after another (the Maps' concurrency changes the timing, not the
    requests): `FetchSteam`, stage 1 per user (its result is stored per import id); `Prefetch`,
    the prefetch handler once for the batch; `ImportEach`, per user one execution of the import
    machine named after the import id (stage 1 again, which finds its stored result, then stages
    2 and 3, each fed the previous one's response as import.asl.json does). Every handler gets
    this process's context: the counted engine, the (offset) clock, the local storage. The
    in-process IGDB caches are cleared before the prefetch and before each user's import, as
    if each met a cold container: an upper bound for requests and Twitch tokens.
    """
    from lambdas.handlers import (
        _runtime,
        database_import,
        igdb_enrichment,
        scheduled_sync,
        shared_prefetch,
        steam_import,
    )

    context, counter = prepare(spec)
    settings = context.settings.model_copy(
        update={"sync_state_machine_arn": "arn:aws:states:us-east-1:0:stateMachine:sync-batch"}
    )
    context = StageContext(
        settings=settings, storage=context.storage, engine=context.engine, now=context.now
    )
    for module in (_runtime, shared_prefetch):  # each handler's container context is ours
        module.stage_context = lambda _settings: context
    _runtime.publish_stage_metrics = lambda **_: None  # no EMF document per stage on stdout
    handlers: dict[Stage, Handler] = {
        Stage.STEAM: steam_import.handler,
        Stage.ENRICH: igdb_enrichment.handler,
        Stage.LOAD: database_import.handler,
    }
    specs = {spec_.stage: spec_ for spec_ in STAGES}

    def invoke(stage: Stage, event: dict[str, Any]) -> StageRun:
        """One Task state; a raised (transient) error ends the import as the Catch would,
        after Step Functions' retries, which the sim does not wait for."""
        started = time.perf_counter()
        model = specs[stage].response_model
        try:
            answer = handlers[stage](event, Invocation(stage.handler_name), settings=settings)
        except PipelineError as exc:
            failure = model.failure(
                exc, user_id=event.get("user_id"), import_id=event.get("import_id")
            )
            return StageRun(stage, failure, time.perf_counter() - started, transient=True)
        response: StageResponse = model.model_validate(answer)
        return StageRun(stage, response, time.perf_counter() - started)

    def import_execution(user: dict[str, Any]) -> PipelineResult:
        """One execution of the import state machine, its input the batch's item."""
        result = PipelineResult(user_id=user["user_id"], import_id=user["import_id"])
        event = user
        for stage in (Stage.STEAM, Stage.ENRICH, Stage.LOAD):
            run = invoke(stage, event)
            result.runs.append(run)
            if not run.response.success:
                break
            event = run.response.model_dump(mode="json")
        return result

    offset = spec.get("schedule_offset_hours", spec.get("clock_offset_hours", 0))
    scheduled_at = datetime.now(UTC) + timedelta(hours=offset)
    started = time.perf_counter()
    executions = BatchExecutions()
    scheduled_sync.handler(
        {"scheduled_time": scheduled_at.isoformat()},
        Invocation("scheduled-sync"),
        sfn_client=executions,
        settings=settings,
        list_requests=lambda settings: list_sync_requests(
            settings=settings, engine=context.database()
        ),
    )
    names = ExecutionNames(Path(spec["work_dir"]) / "import-executions")
    summary = SyncSummary()
    already = prefetch_failed = fetch_failed = 0
    steps = dict.fromkeys(("fetch_s", "prefetch_s", "import_s"), 0.0)  # summed over batches
    for _name, body in executions.started:
        users: list[dict[str, Any]] = json.loads(body)["users"]
        step = time.perf_counter()
        for user in users:  # FetchSteam: a failure here is left to the user's own import
            fetch_failed += not invoke(Stage.STEAM, user).response.success
        steps["fetch_s"] += time.perf_counter() - step
        step = time.perf_counter()
        reset_process_caches()  # Prefetch: its own container
        try:
            answer = shared_prefetch.handler(
                {"users": users}, Invocation("shared-prefetch"), settings=settings
            )
        except PipelineError:  # the Catch goes on to ImportEach
            prefetch_failed += 1
        else:
            prefetch_failed += not answer["success"]
            summary.prefetched = summary.prefetched.plus(
                EnrichmentStats.model_validate(answer["stats"])
            )
        steps["prefetch_s"] += time.perf_counter() - step
        step = time.perf_counter()
        for user in users:  # ImportEach
            if not names.claim(user["import_id"]):
                already += 1
                continue
            reset_process_caches()
            summary.results.append(import_execution(user))
        steps["import_s"] += time.perf_counter() - step
    return figures(
        summary,
        context,
        counter,
        wall=time.perf_counter() - started,
        batches=len(executions.started),
        already_started=already,
        prefetch_failed=prefetch_failed,
        fetch_failed=fetch_failed,
        steps_s={name: round(seconds, 2) for name, seconds in steps.items()},
    )


def main(argv: list[str]) -> int:
    spec_path, out_path = (Path(arg) for arg in argv)
    configure_logging(level="WARNING", log_format="json", stream=sys.stderr)
    spec = json.loads(spec_path.read_text())
    profile_to = os.environ.get("BENCH_PROFILE")  # a folder: one cProfile dump per sync
    if profile_to:
        import cProfile

        with cProfile.Profile() as profiler:
            figures_ = aws_batch(spec) if spec.get("aws_batch") else asyncio.run(run(spec))
        profiler.dump_stats(Path(profile_to) / f"sync-{out_path.stem}.prof")
    else:
        figures_ = aws_batch(spec) if spec.get("aws_batch") else asyncio.run(run(spec))
    out_path.write_text(json.dumps(figures_, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
