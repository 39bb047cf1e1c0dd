"""Child process for one (library size, database) case: first import, then two re-imports.

Run by the runner as `python -m bench.case SPEC.json OUT.json`; it runs the pipeline in this process
against the sandbox the parent serves, and writes its figures as JSON. Its peak RSS is therefore
the pipeline's alone (interpreter, imports, data), without the sandbox.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bench.measure import SandboxAdmin, StatementCounter, peak_rss_mb, row_counts, rows_written
from lambdas.clients.igdb import reset_process_caches
from lambdas.clients.s3 import LocalStorage, enriched_key_for, raw_key, run_stamp
from lambdas.clients.signing import signer_from_settings, store_signed
from lambdas.config import Settings
from lambdas.database.schema import upgrade
from lambdas.database.users import connect_steam, ensure_user
from lambdas.logging import configure_logging
from lambdas.models.csv_codec import decode_rows, encode_rows
from lambdas.models.db import metadata
from lambdas.models.rows import EnrichedGameRow, MatchStatus, RawGameRow
from lambdas.pipeline import PipelineResult, Stage, run_pipeline
from lambdas.sql.engine import create_engine
from lambdas.stages import StageContext

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
        self.context = StageContext(
            settings=self.settings, storage=self.storage, engine=self.engine
        )
        self.admin = SandboxAdmin(spec["sandbox_url"])

    def label(self, name: str) -> None:
        self.counter.label = name

    async def measure(self, run: Any) -> dict[str, Any]:
        """Cold caches and zeroed counters, then `run()`; its timings, requests, SQL and rows."""
        reset_process_caches()
        self.counter.take()
        before = row_counts(self.engine)
        self.admin.reset_stats()
        started, cpu = time.perf_counter(), time.process_time()
        result: PipelineResult = await run()
        total, cpu = time.perf_counter() - started, time.process_time() - cpu
        statements = self.counter.take()
        requests = self.admin.requests()
        after = row_counts(self.engine)
        if not result.success:
            raise SystemExit(f"pipeline failed: {json.dumps(result.as_dict(), default=str)}")
        return {
            "seconds": {run.stage.value: round(run.seconds, 3) for run in result.runs}
            | {"total": round(total, 3), "cpu": round(cpu, 3)},
            "requests": requests,
            "statements": statements,
            "rows_written": rows_written(before, after),
            "result": {run.stage.value: _summary(run.response) for run in result.runs},
            "peak_rss_mb": peak_rss_mb(),
            "locations": {
                "raw": getattr(result.response(Stage.STEAM), "s3_location", None),
                "enriched": getattr(result.response(Stage.ENRICH), "s3_enriched_location", None),
            },
        }

    async def full_import(self) -> PipelineResult:
        """What `import_user_library` does, with statements labelled by stage."""
        self.label("setup")
        ensure_user(self.engine, user_id=USER_ID, create=True)
        result = await run_pipeline(
            first_event={"user_id": USER_ID, "steam_id64": self.spec["steamid64"]},
            context=self.context,
            import_id=uuid.uuid4().hex,
            on_stage=lambda stage: self.label(stage.value),
        )
        steam = result.response(Stage.STEAM)
        if result.success and steam is not None and steam.steam_id64:
            self.label("finish")
            connect_steam(self.engine, user_id=USER_ID, steam_id64=steam.steam_id64)
        self.counter.label = None
        return result

    async def resume(self, stage: Stage, event: dict[str, Any]) -> PipelineResult:
        """The pipeline from `stage` on, with statements labelled by stage."""
        result = await run_pipeline(
            first_event={"user_id": USER_ID, **event},
            context=self.context,
            import_id=uuid.uuid4().hex,
            from_stage=stage,
            on_stage=lambda current: self.label(current.value),
        )
        self.counter.label = None
        return result

    def put(self, suffix: str, rows: list[Any], model: type[Any]) -> str:
        """Store rows under the user's prefix with a fresh (later) run stamp; their location."""
        stamp = run_stamp(datetime.now(UTC), uuid.uuid4().hex)
        key = raw_key(USER_ID, stamp)
        data = encode_rows(rows, model)
        if suffix == "enriched":  # as stage 2 stores it: signed, or stage 3 writes no games
            signer = signer_from_settings(self.context.settings)
            return store_signed(
                self.storage, enriched_key_for(key), data, user_id=USER_ID, signer=signer
            )
        return self.storage.put(key, data)

    def clear_database(self) -> None:
        """Empty every table, so the next import is a first import again."""
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(metadata.sorted_tables):
                    connection.execute(table.delete())

    async def changed_reimport(self, first: dict[str, Any]) -> dict[str, Any]:
        """A re-import where 1% of the games are new and 10% have more playtime.

        The earlier state is rebuilt from the first run's enriched CSV without the "new" games
        (stored as the checkpoint and loaded by stage 3 alone); then the first run's raw CSV, with
        playtimes bumped, is stored and the pipeline resumes from stage 2, as after stage 1.
        """
        raw = decode_rows(
            self.storage.get(first["locations"]["raw"], user_id=USER_ID), RawGameRow, what="raw"
        )
        enriched = decode_rows(
            self.storage.get(first["locations"]["enriched"], user_id=USER_ID),
            EnrichedGameRow,
            what="enriched",
        )
        games = [row.appid for row in enriched if row.match_status is not MatchStatus.FILTERED]
        new = set(games[::NEW_EVERY])
        bumped = set(games[1::BUMP_EVERY]) - new
        self.clear_database()
        self.label("setup")
        ensure_user(self.engine, user_id=USER_ID, create=True)
        earlier = self.put(
            "enriched", [row for row in enriched if row.appid not in new], EnrichedGameRow
        )
        prepared = await self.resume(Stage.LOAD, {"s3_enriched_location": earlier})
        if not prepared.success:
            raise SystemExit(f"preparing the re-import failed: {prepared.as_dict()}")
        changed = [
            row.model_copy(update={"playtime_forever": row.playtime_forever + 60})
            if row.appid in bumped
            else row
            for row in raw
        ]
        location = self.put("raw", changed, RawGameRow)
        figures = await self.measure(lambda: self.resume(Stage.ENRICH, {"s3_location": location}))
        return figures | {"new_games": len(new), "bumped_games": len(bumped)}


def _summary(response: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = response.model_dump(mode="json")
    keep = ("game_count", "stats")
    return {key: dumped[key] for key in keep if key in dumped}


async def run_case(spec: dict[str, Any]) -> dict[str, Any]:
    """Schema first (start-up, not timed), then the three measured runs."""
    upgrade(spec["database_url"])
    case = Case(spec)
    figures: dict[str, Any] = {"spec": {k: v for k, v in spec.items() if k != "sandbox_env"}}
    figures["first"] = await case.measure(case.full_import)
    figures["peak_rss_first_mb"] = peak_rss_mb()
    figures["unchanged"] = await case.measure(case.full_import)
    if spec.get("changed", True):
        figures["changed"] = await case.changed_reimport(figures["first"])
    figures["peak_rss_mb"] = peak_rss_mb()
    case.engine.dispose()
    return figures


def main(argv: list[str]) -> int:
    spec_path, out_path = (Path(arg) for arg in argv)
    configure_logging(level="WARNING", log_format="json", stream=sys.stderr)
    spec = json.loads(spec_path.read_text())
    figures = asyncio.run(run_case(spec))
    out_path.write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
