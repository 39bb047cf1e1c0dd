"""`python -m bench sync-sim --users N`: the periodic sync of many users with overlapping libraries.

Libraries are drawn from the sandbox's one catalogue with a Zipf popularity (popular games are in
most libraries), a log-normal size around a mean, and a few whales. The users go into a fresh
PostgreSQL database with their Steam accounts connected; then the real `sync` path runs in child
processes against the emulator over HTTP: a first sync, two syncs at once (after which no user's
import may be lost or duplicated), and the next day's (the clock 25 h on, so unmatched games are
due again after UNMATCHED_RECHECK_HOURS). Requests are the emulator's own counts; stage 2's and
the prefetch's shared-cache hits and misses come from their stats. Figures are printed, never
asserted.

Modes: by default `steam-import sync` (`sync_all`); `--per-user` one whole import per user, as the
SQS fan-out runs them; `--aws-batch` the scheduled sync as deployed on AWS, the scheduler's
handler and then each batch execution's steps (infra/statemachine/sync.asl.json) through the
Lambda handlers. In that mode the two syncs at once are two batch executions holding the same
users with the same (fresh) import ids: each user's import runs once, in whichever reaches it
first, and the other finds its execution already started.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from bench.databases import DEFAULT_POSTGRES_URL, create_postgres, drop_postgres, postgres_available
from bench.runner import REPO
from lambdas.database.schema import upgrade
from lambdas.database.users import connect_steam, ensure_user
from lambdas.sql.engine import create_engine
from steam_sandbox import Sandbox, SandboxStats, SandboxUser
from steam_sandbox.users import STEAMID64_BASE

#: One database per run (its process id), so two sessions' runs on one server never share it.
DATABASE = f"steam_import_bench_sync_sim_{os.getpid()}"
ACCOUNT_BASE = 3_000_000  # far from the sandbox's fixed roster
IGDB_IDS_PER_REQUEST = 4_500  # 450 ids a sub-query x 10 sub-queries a multiquery
GETITEMS_IDS_PER_CALL = 100


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench sync-sim", description=__doc__)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--mean-apps", type=int, default=300, help="mean library size")
    parser.add_argument("--whales", type=int, default=None, help="5,000-app users (default 1%%)")
    parser.add_argument("--whale-apps", type=int, default=5000)
    parser.add_argument("--zipf", type=float, default=0.9, help="popularity exponent")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="emulator latency")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="server admin URL")
    parser.add_argument("--output", type=Path, default=None, help="JSON file")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--per-user",
        action="store_true",
        help="one import per user, as the SQS intake fans out (no prefetch)",
    )
    mode.add_argument(
        "--aws-batch",
        action="store_true",
        help="the scheduled sync on AWS: batch executions of the sync state machine's steps",
    )
    return parser.parse_args(argv)


def mode_of(options: dict[str, Any]) -> str:
    if options.get("aws_batch"):
        return "aws-batch"
    return "per-user" if options.get("per_user") else "sync"


def draw_libraries(
    appids: list[int],
    *,
    users: int,
    mean: int,
    whales: int,
    whale_apps: int,
    zipf: float,
    seed: int,
) -> list[list[int]]:
    """One library per user: weighted sampling without replacement (Efraimidis-Spirakis)."""
    rng = random.Random(seed)
    ranked = appids[:]
    rng.shuffle(ranked)  # popularity rank is independent of the app id
    weights = [1.0 / (rank + 1) ** zipf for rank in range(len(ranked))]
    sigma = 0.9
    mu = math.log(mean) - sigma**2 / 2  # log-normal with this mean
    libraries = []
    for index in range(users):
        size = whale_apps if index < whales else int(rng.lognormvariate(mu, sigma))
        size = max(5, min(size, len(ranked)))
        keys = (
            (math.log(rng.random() or 1e-300) / w, app)
            for w, app in zip(weights, ranked, strict=True)
        )
        libraries.append([app for _, app in heapq.nlargest(size, keys)])
    return libraries


def request_counts(stats: SandboxStats) -> dict[str, int]:
    steam = stats.requests.get("steam", {})

    def calls(method: str) -> int:
        return sum(sum(s.values()) for endpoint, s in steam.items() if method in endpoint)

    return {
        "steam_calls": stats.total("steam"),
        "getitems_calls": calls("GetItems"),
        "wishlist_calls": calls("GetWishlist"),
        "igdb_requests": stats.total("igdb"),
        "twitch_tokens": stats.tokens_issued,
        "steam_429": stats.rate_limited.get("steam", 0),
        "igdb_429": stats.rate_limited.get("igdb", 0),
    }


def start_child(
    spec: dict[str, Any], work: Path, name: str
) -> tuple[subprocess.Popen[bytes], Path]:
    spec_path, out_path = work / f"{name}-spec.json", work / f"{name}-out.json"
    spec_path.write_text(json.dumps(spec))
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.sync_child", str(spec_path), str(out_path)], cwd=REPO
    )
    return process, out_path


def finish(process: subprocess.Popen[bytes], out_path: Path) -> dict[str, Any]:
    if process.wait() != 0:
        raise RuntimeError(f"a sync child failed (exit {process.returncode})")
    figures: dict[str, Any] = json.loads(out_path.read_text())
    return figures


def run_syncs(
    sandbox: Sandbox, specs: list[dict[str, Any]], work: Path, name: str
) -> dict[str, Any]:
    """Run the given syncs at the same time; their figures and the emulator's counts."""
    sandbox.reset_stats()
    started = time.perf_counter()
    children = [start_child(spec, work, f"{name}-{i}") for i, spec in enumerate(specs)]
    runs = [finish(process, out) for process, out in children]
    return {
        "wall_s": round(time.perf_counter() - started, 2),
        "runs": runs,
        "requests": request_counts(sandbox.stats()),
    }


def integrity(url: str) -> dict[str, int]:
    """Duplicates the app's tables must never hold, and users left without their library."""
    engine = create_engine(url)
    queries = {
        "duplicate_imported_games": """
            SELECT count(*) FROM (SELECT 1 FROM "ImportedGame" WHERE "deletedAt" IS NULL
            GROUP BY "userId", "storefront", "storefrontGameId" HAVING count(*) > 1) d""",
        "duplicate_library_items": """
            SELECT count(*) FROM (SELECT 1 FROM "LibraryItem"
            GROUP BY "userId", "gameId" HAVING count(*) > 1) d""",
        "users_without_games": """
            SELECT count(*) FROM "User" u WHERE NOT EXISTS
            (SELECT 1 FROM "ImportedGame" g WHERE g."userId" = u.id)""",
        "imported_games": 'SELECT count(*) FROM "ImportedGame"',
        "library_items": 'SELECT count(*) FROM "LibraryItem"',
    }
    with engine.connect() as connection:
        found = {
            name: int(connection.execute(text(sql)).scalar_one()) for name, sql in queries.items()
        }
    engine.dispose()
    return found


def main(argv: list[str]) -> int:
    args = parse(argv)
    console = Console(width=150)
    if not postgres_available(args.postgres_url):
        console.print(f"PostgreSQL is needed at {args.postgres_url}")
        return 1
    whales = args.whales if args.whales is not None else max(1, args.users // 100)
    results: dict[str, Any] = {"options": {**vars(args), "whales": whales, "output": None}}
    url = create_postgres(args.postgres_url, DATABASE)
    try:
        with tempfile.TemporaryDirectory(prefix="sync-sim-") as scratch, Sandbox(seed=42) as sb:
            work = Path(scratch)
            sb.set_knobs(all={"latency_ms": args.latency_ms})
            results["population"] = populate(sb, url, args, whales)
            console.print(f"[dim]… {args.users} users, {results['population']}[/]")
            base = {
                "database_url": url,
                "sandbox_env": sb.env(),
                "work_dir": str(work),
                "storage_dir": str(work / "storage"),
                "per_user": args.per_user,
                "aws_batch": args.aws_batch,
            }
            mode = mode_of(vars(args))
            path = (
                args.output
                or REPO
                / "bench"
                / "results"
                / f"{stamp()}-sync-sim-{args.users}{'' if mode == 'sync' else '-' + mode}.json"
            )
            # On AWS a sync's import ids are the scheduled day's: the two at once take another
            # day's (fresh) ids, the clock unchanged, so their imports run and contend.
            again = {**base, "schedule_offset_hours": 72} if args.aws_batch else base
            phases = [
                ("first", "first sync", [base]),
                # a second sync soon after: nothing new to ask, and both at once
                ("concurrent", "two syncs at once", [again, again]),
                # the next day's: the clock 25 h on, so UNMATCHED_RECHECK_HOURS (24) has passed
                # for the unmatched games, in the checkpoints and in the shared cache alike
                ("next_day", "next day's sync", [{**base, "clock_offset_hours": 25}]),
            ]
            for key, label, specs in phases:
                console.print(f"[dim]… {label}[/]")
                before = integrity(url)
                results[key] = run_syncs(sb, specs, work, key)
                results[key]["integrity"] = {"before": before, "after": integrity(url)}
                save(results, path)  # figures so far, should a later phase be cut short
    finally:
        drop_postgres(args.postgres_url, DATABASE)
    report(results, console)
    console.print(f"figures saved to {path}", highlight=False)
    return 0


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def save(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str))


def populate(sb: Sandbox, url: str, args: argparse.Namespace, whales: int) -> dict[str, Any]:
    """Register the users' libraries in the emulator and the users in the database."""
    visible = sorted(
        app.appid for app in sb.catalogue.apps.values() if not app.free_sub and not app.unvetted
    )
    libraries = draw_libraries(
        visible,
        users=args.users,
        mean=args.mean_apps,
        whales=whales,
        whale_apps=args.whale_apps,
        zipf=args.zipf,
        seed=args.seed,
    )
    upgrade(url)
    engine = create_engine(url)
    for index, library in enumerate(libraries):
        steamid64 = str(STEAMID64_BASE + ACCOUNT_BASE + index)
        name = f"sim-{index:05d}"
        sb.state.libraries.add(
            SandboxUser(name, steamid64, None, name, 3, True, True, len(library), len(library)),
            library,
        )
        ensure_user(engine, user_id=name, create=True)
        connect_steam(engine, user_id=name, steam_id64=steamid64)
    engine.dispose()
    sizes = sorted(len(library) for library in libraries)
    distinct = len({app for library in libraries for app in library})
    return {
        "catalogue_apps": len(visible),
        "distinct_apps": distinct,
        "owned_apps": sum(sizes),
        "mean_apps": round(sum(sizes) / len(sizes), 1),
        "median_apps": sizes[len(sizes) // 2],
        "max_apps": sizes[-1],
        "whales": whales,
    }


def report(results: dict[str, Any], console: Console) -> None:
    population = results["population"]
    distinct = population["distinct_apps"]
    mode = {
        "aws-batch": "AWS batch executions (scheduler → sync state machine)",
        "per-user": "one import per user (SQS fan-out)",
        "sync": "sync_all",
    }[mode_of(results["options"])]
    table = Table(
        title=f"sync-sim: {results['options']['users']} users, {distinct} distinct apps, {mode}"
    )
    for column in ("", "first sync", "two at once", "next day"):
        table.add_column(column, justify="right")
    phases = [results["first"], results["concurrent"], results["next_day"]]

    def runs(key: str) -> list[str]:
        return [str(sum(run[key] for run in phase["runs"])) for phase in phases]

    def requests(key: str) -> list[str]:
        return [str(phase["requests"][key]) for phase in phases]

    table.add_row(
        "imports ok / failed",
        *[
            f"{sum(r['succeeded'] for r in p['runs'])} / {sum(r['failed'] for r in p['runs'])}"
            for p in phases
        ],
    )
    if mode_of(results["options"]) == "aws-batch":
        table.add_row("batch executions", *runs("batches"))
        table.add_row("imports found already started", *runs("already_started"))
        table.add_row(
            "failed stage 1 in FetchSteam / failed prefetches",
            *[f"{_summed(p, 'fetch_failed')} / {_summed(p, 'prefetch_failed')}" for p in phases],
        )
    table.add_row("Steam calls", *requests("steam_calls"))
    table.add_row("  of which GetItems (keyless)", *requests("getitems_calls"))
    table.add_row("  of which GetWishlist (keyless)", *requests("wishlist_calls"))
    table.add_row(
        "  GetItems in the prefetch",
        *[_summed(p, "prefetch", "steam_store_calls") for p in phases],
    )
    table.add_row(
        "Steam Web API key calls",
        *[
            str(
                p["requests"]["steam_calls"]
                - p["requests"]["getitems_calls"]
                - p["requests"]["wishlist_calls"]
            )
            for p in phases
        ],
    )
    table.add_row("IGDB requests", *requests("igdb_requests"))
    table.add_row(
        "  in the prefetch (incl. Twitch token)",
        *[_summed(p, "prefetch", "igdb_requests") for p in phases],
    )
    table.add_row("Twitch tokens", *requests("twitch_tokens"))
    table.add_row(
        "429 Steam / IGDB",
        *[f"{p['requests']['steam_429']} / {p['requests']['igdb_429']}" for p in phases],
    )
    table.add_row("SQL statements", *runs("sql_statements"))
    table.add_row("wall time, s", *[str(p["wall_s"]) for p in phases])
    if mode_of(results["options"]) == "aws-batch":
        table.add_row(
            "  FetchSteam / Prefetch / ImportEach, s",
            *[
                " / ".join(
                    _summed(p, "steps_s", step) for step in ("fetch_s", "prefetch_s", "import_s")
                )
                for p in phases
            ],
        )
    table.add_row(
        "peak RSS per sync, MB", *[str(max(r["peak_rss_mb"] for r in p["runs"])) for p in phases]
    )
    for what, prefix in (("store types", "store_type"), ("IGDB answers", "igdb")):
        table.add_row(
            f"shared-cache hits, {what} (prefetch / stage 2)",
            *[f"{_rate(p, 'prefetch', prefix)} / {_rate(p, 'stage2', prefix)}" for p in phases],
        )
    table.add_row("IGDB in-process cache hit rate", *[_hit_rate(p) for p in phases])
    console.print(table)
    goals = Table(title="goals (issue 18; on AWS, issue 30)")
    for column in ("measure", "goal", "measured"):
        goals.add_column(column, justify="right")
    goals.add_row(
        "IGDB requests, first sync",
        f"≤ {math.ceil(math.ceil(distinct / IGDB_IDS_PER_REQUEST) * 1.05)}",
        str(results["first"]["requests"]["igdb_requests"]),
    )
    goals.add_row(
        "IGDB requests, second sync / next day",
        "≈ 0",
        " / ".join(
            str(results[k]["requests"]["igdb_requests"]) for k in ("concurrent", "next_day")
        ),
    )
    goals.add_row(
        "GetItems calls, first sync",
        f"≤ {math.ceil(math.ceil(distinct / GETITEMS_IDS_PER_CALL) * 1.05)}",
        str(results["first"]["requests"]["getitems_calls"]),
    )
    after = results["concurrent"]["integrity"]["after"]
    before = results["concurrent"]["integrity"]["before"]
    goals.add_row(
        "lost or duplicated imports, two syncs at once",
        "0",
        f"{after['users_without_games']} users without games, "
        f"{after['duplicate_imported_games']} + {after['duplicate_library_items']} duplicates, "
        f"rows {before['imported_games']} → {after['imported_games']}",
    )
    console.print(goals)


def _summed(phase: dict[str, Any], *keys: str) -> str:
    """A figure summed over the phase's syncs: `run[keys[0]][keys[1]]…`."""
    total = 0
    for run in phase["runs"]:
        value = run
        for key in keys:
            value = value[key]
        total += value
    return str(round(total, 2))  # seconds are floats


def _rate(phase: dict[str, Any], part: str, prefix: str) -> str:
    """Apps the shared app cache answered, of those looked up there, in the prefetch or in the
    users' stage 2 (summed over the phase's syncs); "—" when nothing was looked up."""
    hits = sum(run[part][f"{prefix}_cache_hits"] for run in phase["runs"])
    misses = sum(run[part][f"{prefix}_cache_misses"] for run in phase["runs"])
    return f"{hits / (hits + misses):.1%} of {hits + misses}" if hits + misses else "—"


def _hit_rate(phase: dict[str, Any]) -> str:
    hits = sum(run["app_cache"]["hits"] for run in phase["runs"])
    misses = sum(run["app_cache"]["misses"] for run in phase["runs"])
    return f"{hits / (hits + misses):.1%}" if hits + misses else "—"
