"""Child process timing stage 3 alone: one enriched CSV loaded into an empty database, then again.

Run by the runner as `python -m bench.stage3 SPEC.json OUT.json`; SPEC names the enriched CSV (game
rows only, prepared by the runner) and the database. The first load is a first import, the
second an unchanged re-import of the same CSV.
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

from bench.measure import StatementCounter, peak_rss_mb, row_counts, rows_written
from lambdas.clients.s3 import LocalStorage, enriched_key_for, raw_key, run_stamp
from lambdas.config import Settings
from lambdas.database.engine import create_engine
from lambdas.database.schema import upgrade
from lambdas.database.users import ensure_user
from lambdas.logging import configure_logging
from lambdas.models.events import DatabaseImportEvent
from lambdas.stages import StageContext, database_stage

USER_ID = "bench-stage3"


async def run_stage3(spec: dict[str, Any], data: bytes) -> dict[str, Any]:
    """Schema and input first (not timed), then the two timed `database_stage` calls."""
    work = Path(spec["work_dir"])
    upgrade(spec["database_url"])
    engine = create_engine(spec["database_url"])
    counter = StatementCounter().attach(engine)
    storage = LocalStorage(work / "storage")
    settings = Settings(data_dir=work, database_url=spec["database_url"])
    context = StageContext(settings=settings, storage=storage, engine=engine)
    ensure_user(engine, user_id=USER_ID, create=True)
    stamp = run_stamp(datetime.now(UTC), uuid.uuid4().hex)
    location = storage.put(enriched_key_for(raw_key(USER_ID, stamp)), data)
    event = DatabaseImportEvent(
        user_id=USER_ID, import_id=uuid.uuid4().hex, s3_enriched_location=location
    )
    figures: dict[str, Any] = {"database": spec["database"]}
    for phase in ("first", "unchanged"):
        before = row_counts(engine)
        counter.label = "load"
        started, cpu = time.perf_counter(), time.process_time()
        response = await database_stage(event, context)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        statements = counter.take().get("load", 0)
        figures[phase] = {
            "seconds": round(seconds, 3),
            "cpu": round(cpu, 3),
            "statements": statements,
            "rows_written": rows_written(before, row_counts(engine)),
            "stats": response.stats.model_dump(),
        }
    figures["peak_rss_mb"] = peak_rss_mb()
    engine.dispose()
    return figures


def main(argv: list[str]) -> int:
    spec_path, out_path = (Path(arg) for arg in argv)
    configure_logging(level="WARNING", log_format="json", stream=sys.stderr)
    spec = json.loads(spec_path.read_text())
    figures = asyncio.run(run_stage3(spec, Path(spec["enriched_csv"]).read_bytes()))
    out_path.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
