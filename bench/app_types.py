"""Steam store types and the shared app cache: requests and stage-2 time, cold and for a second
user with the same library, against the sandbox with 50 ms latency on every upstream.

Run: `uv run python -m bench.app_types [--sizes large,huge]`. The sandbox runs in this process;
each stage-2 run happens in a child process (`python -m bench.app_types SPEC OUT`), so the
emulator does not compete with the pipeline for the GIL. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LATENCY_MS = 50


def child(spec_path: Path, out_path: Path) -> None:
    """Stage 1 once, then stage 2 for user A (cold) and user B (same library), timed."""
    from bench.databases import sqlite_url
    from bench.measure import SandboxAdmin
    from lambdas.clients.igdb import reset_process_caches
    from lambdas.clients.s3 import LocalStorage, raw_key
    from lambdas.config import Settings
    from lambdas.database.schema import upgrade
    from lambdas.logging import configure_logging
    from lambdas.models.events import IgdbEnrichmentEvent, SteamImportEvent
    from lambdas.sql.engine import create_engine
    from lambdas.stages import StageContext, enrichment_stage, steam_stage

    spec = json.loads(spec_path.read_text())
    work = Path(spec["work_dir"])
    configure_logging(level="WARNING", log_format="json", stream=sys.stderr)
    url = sqlite_url(work)
    upgrade(url)
    settings = Settings(
        **{name.lower(): value for name, value in spec["sandbox_env"].items()},
        data_dir=work,
        database_url=url,
    )
    storage = LocalStorage(work / "storage")
    context = StageContext(settings=settings, storage=storage, engine=create_engine(url))
    admin = SandboxAdmin(spec["sandbox_url"])
    raw = asyncio.run(
        steam_stage(
            SteamImportEvent(user_id="user-a", steam_id64=spec["steamid64"], import_id="a"),
            context,
        )
    )
    assert raw.s3_location is not None
    data = storage.get(raw.s3_location, user_id="user-a")
    location_b = storage.put(raw_key("user-b", "20261202T000000000000Z-b"), data)
    figures: dict[str, Any] = {"apps": raw.game_count}
    for label, user, location in (
        ("cold", "user-a", raw.s3_location),
        ("second user", "user-b", location_b),
    ):
        reset_process_caches()  # a new container: only the database is shared
        admin.reset_stats()
        started = time.perf_counter()
        response = asyncio.run(
            enrichment_stage(IgdbEnrichmentEvent(user_id=user, s3_location=location), context)
        )
        seconds = time.perf_counter() - started
        requests = admin.requests()
        figures[label] = {
            "stage2_seconds": round(seconds, 3),
            "get_items": requests.get("steam", {}).get("GetItems", 0),
            "igdb": sum(requests.get("igdb", {}).values())
            + sum(requests.get("twitch", {}).values()),
            "stats": response.stats.model_dump(),
        }
    out_path.write_text(json.dumps(figures))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.app_types", description=__doc__)
    parser.add_argument("--sizes", default="large,huge", help="sandbox users, comma-separated")
    args = parser.parse_args(argv)
    from bench.runner import run_child
    from steam_sandbox import Sandbox

    with tempfile.TemporaryDirectory(prefix="steam-import-types-") as scratch, Sandbox() as sb:
        sb.set_knobs(all={"latency_ms": LATENCY_MS})
        for size in args.sizes.split(","):
            account = sb.users.by_name(size)
            work = Path(scratch) / size
            work.mkdir()
            spec = {
                "label": size,
                "work_dir": str(work),
                "steamid64": account.steamid64,
                "sandbox_env": sb.env(),
                "sandbox_url": sb.base_url,
            }
            figures = run_child("bench.app_types", spec, work)
            print(f"{size} ({figures['apps']} apps), sandbox latency {LATENCY_MS} ms:")
            for label in ("cold", "second user"):
                run = figures[label]
                print(
                    f"  {label:<12} stage 2 {run['stage2_seconds']:6.2f} s   "
                    f"GetItems calls {run['get_items']:4}   IGDB requests {run['igdb']:3}   "
                    f"filtered {run['stats']['filtered']} of {run['stats']['processed']}"
                )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1].endswith(".json"):
        child(Path(sys.argv[1]), Path(sys.argv[2]))
    else:
        sys.exit(main(sys.argv[1:]))
