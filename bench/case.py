"""Child process for one (library size, database) case: first import, then two re-imports.

Run by the runner as `python -m bench.case SPEC.json OUT.json`; it runs the pipeline in this process
against the sandbox the parent serves, and writes its figures as JSON. Its peak RSS is therefore
the pipeline's alone (interpreter, imports, data), without the sandbox.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bench.floor import Recorder, database_floor, network_floor, parse_floor, written_rows
from bench.measure import (
    SandboxAdmin,
    StatementCounter,
    peak_rss_mb,
    reset_peak_rss,
    row_counts,
    rows_written,
)
from lambdas.clients.igdb import reset_process_caches
from lambdas.clients.s3 import (
    LocalStorage,
    read_library_state,
    state_key,
)
from lambdas.config import Settings
from lambdas.database.schema import upgrade
from lambdas.database.users import connect_steam, ensure_user
from lambdas.logging import configure_logging
from lambdas.models.csv_codec import decode_rows
from lambdas.models.db import metadata
from lambdas.models.rows import EnrichedGameRow, MatchStatus
from lambdas.pipeline import PipelineResult, Stage, run_pipeline
from lambdas.sql.engine import create_engine
from lambdas.stages import StageContext
from steam_sandbox.library_edit import LibraryEdit

USER_ID = "bench-user"
#: Every NEW_EVERY-th game is missing from the earlier import (1% new games).
NEW_EVERY = 100
#: Every BUMP_EVERY-th game gains an hour of playtime (10% changed playtimes).
BUMP_EVERY = 10


class Case:
    """One case's context: settings, storage, engine and the counters around each run."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        work = Path(spec["work_dir"])
        self.storage = LocalStorage(work / "storage")
        self.settings = Settings(
            **{name.lower(): value for name, value in spec["sandbox_env"].items()},
            data_dir=work,
            database_url=spec["database_url"],
        )
        self.engine: Engine = create_engine(spec["database_url"])
        self.counter = StatementCounter().attach(self.engine)
        self.work = work
        self.recorder = Recorder(work / "answers.bin")
        self.context = StageContext(
            settings=self.settings,
            storage=self.storage,
            engine=self.engine,
            transport=self.recorder,
        )
        self.admin = SandboxAdmin(spec["sandbox_url"])
        self.latency = spec.get("latency_ms", 100) / 1000
        self.stage: str | None = None
        self.stage_peaks: dict[str, float] = {}
        self.stage_cpu: dict[str, float] = {}
        self._stage_cpu_from = 0.0

    def label(self, name: str) -> None:
        self.counter.label = name

    def stage_started(self, stage: str) -> None:
        """Label the statements, and close the previous stage's peak RSS (then start anew)."""
        self.stage_done()
        self.label(stage)
        self.stage = stage
        self._stage_cpu_from = time.process_time()

    def stage_done(self) -> None:
        if self.stage is not None:
            self.stage_cpu[self.stage] = round(time.process_time() - self._stage_cpu_from, 3)
            self.stage_peaks[self.stage] = peak_rss_mb()
            reset_peak_rss()
        self.stage = None

    async def measure(self, run: Any) -> dict[str, Any]:
        """Cold caches and zeroed counters, then `run()`; its timings, requests, SQL, rows, this
        phase's peak RSS, and then (untimed) the phase's floor."""
        reset_process_caches()
        self.counter.take()
        before = row_counts(self.engine)
        self.admin.reset_stats()
        self.recorder.start()
        since = datetime.now(UTC).replace(tzinfo=None)
        reset_peak_rss()
        self.stage_peaks, self.stage_cpu = {}, {}
        started, cpu = time.perf_counter(), time.process_time()
        result: PipelineResult = await run()
        total, cpu = time.perf_counter() - started, time.process_time() - cpu
        self.stage_done()
        peak = max([peak_rss_mb(), *self.stage_peaks.values()])
        statements = self.counter.take()
        requests = self.admin.requests()
        after = row_counts(self.engine)
        if not result.success:
            raise SystemExit(f"pipeline failed: {json.dumps(result.as_dict(), default=str)}")
        return {
            "seconds": {
                run.stage.value: round(run.seconds, 3) for run in result.runs if not run.skipped
            }
            | {"total": round(total, 3), "cpu": round(cpu, 3)},
            "requests": requests,
            "statements": statements,
            "rows_written": rows_written(before, after),
            "result": {run.stage.value: _summary(run.response) for run in result.runs},
            "unchanged": result.unchanged,
            "peak_rss_mb": peak,
            "peak_rss_by_stage_mb": self.stage_peaks,
            "cpu_by_stage": self.stage_cpu,
            "floor": self.floor(requests, since),
            "locations": {
                "raw": getattr(result.response(Stage.STEAM), "s3_location", None),
                "enriched": getattr(result.response(Stage.ENRICH), "s3_enriched_location", None),
            },
        }

    def floor(self, requests: dict[str, dict[str, int]], since: datetime) -> dict[str, Any]:
        """The phase's floor (bench/floor.py), and the re-import's reference: the Steam Web API
        exchanges as timed in the phase plus reading the stored state."""
        network = network_floor(requests, self.latency)
        database = database_floor(self.engine, written_rows(self.engine, since), self.work)
        parse, decoder = parse_floor(self.recorder.bodies())
        started = time.perf_counter()
        read_library_state(self.storage, USER_ID)
        state = time.perf_counter() - started
        fetch = self.recorder.webapi_seconds()
        return {
            "network": network,
            "database": database,
            "parse": parse,
            "decoder": decoder,
            "total": round(network + database + parse, 4),
            "fetch": round(fetch, 4),
            "state_read": round(state, 4),
            "fetch_and_state": round(fetch + state, 4),
        }

    async def full_import(self) -> PipelineResult:
        """What `import_user_library` does, with statements labelled by stage."""
        self.label("setup")
        ensure_user(self.engine, user_id=USER_ID, create=True)
        result = await run_pipeline(
            first_event={"user_id": USER_ID, "steam_id64": self.spec["steamid64"]},
            context=self.context,
            import_id=uuid.uuid4().hex,
            on_stage=lambda stage: self.stage_started(stage.value),
        )
        steam = result.response(Stage.STEAM)
        if result.success and steam is not None and steam.steam_id64:
            self.label("finish")
            connect_steam(self.engine, user_id=USER_ID, steam_id64=steam.steam_id64)
        self.counter.label = None
        return result

    def clear_database(self) -> None:
        """Empty every table and forget the user's committed state, so the next import is a
        first import again."""
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(metadata.sorted_tables):
                    connection.execute(table.delete())
        (self.storage.root / state_key(USER_ID)).unlink(missing_ok=True)

    def changed_apps(self, first: dict[str, Any]) -> tuple[set[int], set[int]]:
        """(new, played): every 100th game of the first import, and every 10th other one."""
        enriched = decode_rows(
            self.storage.get(first["locations"]["enriched"], user_id=USER_ID),
            EnrichedGameRow,
            what="enriched",
        )
        games = [row.appid for row in enriched if row.match_status is not MatchStatus.FILTERED]
        new = set(games[::NEW_EVERY])
        return new, set(games[1::BUMP_EVERY]) - new

    async def prepare_changed(self, first: dict[str, Any]) -> None:
        """The state before the changed re-import: a whole import (unmeasured, into emptied
        tables, with no committed state) of the library without the "new" games, Steam's answer
        edited on its way in (`LibraryEdit`)."""
        new, _ = self.changed_apps(first)
        self.clear_database()
        self.recorder.inner = LibraryEdit(hidden=new)
        prepared = await self.full_import()
        if not prepared.success:
            raise SystemExit(f"preparing the re-import failed: {prepared.as_dict()}")

    async def changed_reimport(self, first: dict[str, Any]) -> dict[str, Any]:
        """A re-import where 1% of the games are new and 10% have more playtime: the whole
        pipeline with every game listed and the "played" ones an hour longer."""
        new, played = self.changed_apps(first)
        self.recorder.inner = LibraryEdit(played=played, minutes=60)
        figures = await self.measure(self.full_import)
        return figures | {"new_games": len(new), "bumped_games": len(played)}


def _summary(response: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = response.model_dump(mode="json")
    keep = ("game_count", "stats")
    return {key: dumped[key] for key in keep if key in dumped}


#: The phases a child may run; the runner starts one child per phase, so each phase's peak RSS
#: is that of a process that ran only it (as each Lambda function runs its own stage).
PHASES = ("first", "unchanged", "prepare_changed", "changed")


#: What the stages import on their first run (lambdas.stages imports lazily). A child imports
#: them before its timed phase: their cold import is the handler table's own figure
#: (bench/cold_import.py), and a phase times the import's work, as a warm container does it.
STAGE_MODULES = (
    "lambdas.steam.library",
    "lambdas.clients.steam_store",
    "lambdas.enrichment.enrich",
    "lambdas.state.app_cache",
    "lambdas.clients.signing",
    "lambdas.database.loader",
)


async def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    """The phases `spec` names, in order (the schema and the stages' imports before `first`:
    start-up, not timed)."""
    for module in STAGE_MODULES:
        importlib.import_module(module)
    phases = spec.get("phases", ["first", "unchanged", "prepare_changed", "changed"])
    if "first" in phases:
        upgrade(spec["database_url"])
    case = Case(spec)
    figures: dict[str, Any] = {"spec": {k: v for k, v in spec.items() if k != "sandbox_env"}}
    first = spec.get("first")
    for phase in phases:
        if phase in ("first", "unchanged"):
            figures[phase] = await case.measure(case.full_import)
            first = figures.get("first", first)
        elif phase == "prepare_changed":
            await case.prepare_changed(first or {})
        elif phase == "changed":
            figures[phase] = await case.changed_reimport(first or {})
    case.engine.dispose()
    return figures


def main(argv: list[str]) -> int:
    spec_path, out_path = (Path(arg) for arg in argv)
    configure_logging(level="WARNING", log_format="json", stream=sys.stderr)
    spec = json.loads(spec_path.read_text())
    profile_to = os.environ.get("BENCH_PROFILE")  # a folder: one cProfile dump per phase
    if profile_to:
        import cProfile

        phase = "-".join(spec.get("phases", ["all"]))
        with cProfile.Profile() as profiler:
            figures = asyncio.run(run_case(spec))
        profiler.dump_stats(Path(profile_to) / f"{spec.get('label', 'case')}-{phase}.prof")
    else:
        figures = asyncio.run(run_case(spec))
    out_path.write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
