"""Child process of `sync-sim`: one run of the real `sync` path (`sync_all`), as one invocation.

Run as `python -m bench.sync_child SPEC.json OUT.json`; a fresh process is a cold container, so
its in-process IGDB cache starts empty and its peak RSS is the sync's alone (no emulator). With
`"per_user": true` in the spec it runs the users' imports one by one as the AWS scheduled sync
fans them out (no prefetch), instead of `sync_all`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.measure import StatementCounter, peak_rss_mb
from lambdas.clients.igdb import process_caches, reset_process_caches
from lambdas.clients.s3 import LocalStorage
from lambdas.config import Settings
from lambdas.logging import configure_logging
from lambdas.models.events import Stage
from lambdas.pipeline import run_pipeline
from lambdas.sql.engine import create_engine
from lambdas.stages import StageContext
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


async def run(spec: dict[str, Any]) -> dict[str, Any]:
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
    started = time.perf_counter()
    if spec.get("per_user"):
        summary = await per_user(context)
    else:
        summary = await sync_all(context=context, new_import_id=lambda: uuid.uuid4().hex)
    wall = time.perf_counter() - started
    apps = process_caches(settings.igdb_cache_ttl_seconds).apps
    failures = Counter(
        str(result.as_dict()["error_code"]) for result in summary.results if not result.success
    )
    engine.dispose()
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
    }


async def per_user(context: StageContext) -> SyncSummary:
    """The scheduled sync on AWS: one whole import per user, each its own execution, whose
    stage 2 may run in any container, so no prefetch and (an upper bound) a cold in-process
    IGDB cache for every user; only the shared app cache in the database is common."""
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


def main(argv: list[str]) -> int:
    spec_path, out_path = (Path(arg) for arg in argv)
    configure_logging(level="WARNING", log_format="json", stream=sys.stderr)
    figures = asyncio.run(run(json.loads(spec_path.read_text())))
    out_path.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
