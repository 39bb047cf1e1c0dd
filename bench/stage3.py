"""Child process timing stage 3 alone: enriched CSVs loaded into one database, phase by phase.

Run by the runner as `python -m bench.stage3 SPEC.json OUT.json`. SPEC names the database, its
schema (`standalone`, or one of the app's schemas, built by the runner from the app's DDL), and
the phases to run, each with the enriched CSV it loads: `first` into the empty database,
`unchanged` (the same CSV again), `changed` (every row's playtimes moved on). The runner starts
one child for `first` + `unchanged` and a fresh one for `changed`, so each peak RSS is that of a
process that has run one kind of import.
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

from bench.databases import user_table
from bench.measure import StatementCounter, peak_rss_mb, row_counts, rows_written
from lambdas.clients.s3 import LocalStorage, enriched_key_for, raw_key, run_stamp
from lambdas.clients.signing import signer_from_settings, store_signed
from lambdas.config import Settings
from lambdas.database.schema import upgrade
from lambdas.database.users import ensure_user
from lambdas.logging import configure_logging
from lambdas.models.events import DatabaseImportEvent
from lambdas.sql.engine import create_engine
from lambdas.stages import StageContext, database_stage

USER_ID = "bench-stage3"


async def run_stage3(spec: dict[str, Any], inputs: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Schema first (not timed), then one timed `database_stage` call per (phase, enriched CSV)."""
    work = Path(spec["work_dir"])
    schema = spec.get("schema", "standalone")
    if schema == "standalone" and spec.get("prepare", True):
        upgrade(spec["database_url"])
    engine = create_engine(spec["database_url"])
    counter = StatementCounter().attach(engine)
    storage = LocalStorage(work / "storage")
    settings = Settings(data_dir=work, database_url=spec["database_url"])
    context = StageContext(settings=settings, storage=storage, engine=engine)
    signer = signer_from_settings(settings)
    if schema == "standalone":
        ensure_user(engine, user_id=USER_ID, create=True)
    users = user_table(schema)
    figures: dict[str, Any] = {"database": spec["database"], "schema": schema}
    for phase, data in inputs:
        stamp = run_stamp(datetime.now(UTC), uuid.uuid4().hex)
        location = store_signed(  # as stage 2 stores it: signed, so stage 3 writes the games
            storage,
            enriched_key_for(raw_key(USER_ID, stamp)),
            data,
            user_id=USER_ID,
            signer=signer,
        )
        event = DatabaseImportEvent(
            user_id=USER_ID, import_id=uuid.uuid4().hex, s3_enriched_location=location
        )
        before = row_counts(engine, users=users)
        counter.label = "load"
        started, cpu = time.perf_counter(), time.process_time()
        response = await database_stage(event, context)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        statements = counter.take().get("load", 0)
        if not response.success:
            raise RuntimeError(f"stage 3 failed in phase {phase}: {response.error_code}")
        figures[phase] = {
            "seconds": round(seconds, 3),
            "cpu": round(cpu, 3),
            "statements": statements,
            "rows_written": rows_written(before, row_counts(engine, users=users)),
            "stats": response.stats.model_dump(),
            "peak_rss_mb": peak_rss_mb(),
        }
    figures["peak_rss_mb"] = peak_rss_mb()
    engine.dispose()
    return figures


def main(argv: list[str]) -> int:
    spec_path, out_path = (Path(arg) for arg in argv)
    configure_logging(level="WARNING", log_format="json", stream=sys.stderr)
    spec = json.loads(spec_path.read_text())
    inputs = [(phase, Path(path).read_bytes()) for phase, path in spec["phases"]]
    figures = asyncio.run(run_stage3(spec, inputs))
    out_path.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
