"""Runs every benchmark case: sandbox in this process, each pipeline run in a fresh child process.

The sandbox (uvicorn in a thread of this process) answers the children over loopback HTTP, so a
child's wall time is not slowed by the emulator competing for its GIL, and a child's peak RSS is
the pipeline's alone: interpreter, imports and data of one (size, database) case, sandbox excluded.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cold_import import cold_imports
from bench.databases import create_postgres, drop_postgres, sqlite_url
from lambdas.models.csv_codec import decode_rows, encode_rows
from lambdas.models.rows import EnrichedGameRow, MatchStatus
from steam_sandbox import Sandbox

REPO = Path(__file__).resolve().parent.parent
LATENCY_MS = 100
STAGE3_GAMES = 5_000


@dataclass(frozen=True, slots=True)
class Options:
    """What to run: library sizes, databases, the stage-3 size, where PostgreSQL is."""

    sizes: tuple[str, ...]
    databases: tuple[str, ...]
    stage3_games: int
    postgres_url: str
    changed: bool = True
    import_repeats: int = 3


def run_child(module: str, spec: dict[str, Any], work: Path) -> dict[str, Any]:
    """Run `python -m module SPEC OUT` in `work`; its JSON figures (stderr is passed through)."""
    spec_path, out_path = work / "spec.json", work / "out.json"
    spec_path.write_text(json.dumps(spec))
    completed = subprocess.run(
        [sys.executable, "-m", module, str(spec_path), str(out_path)], cwd=REPO, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{module} failed for {spec.get('label')} (exit {completed.returncode})")
    figures: dict[str, Any] = json.loads(out_path.read_text())
    return figures


class Databases:
    """Hands out a fresh database per case and drops it afterwards."""

    def __init__(self, postgres_url: str) -> None:
        self.postgres_url = postgres_url

    def url(self, database: str, label: str, work: Path) -> str:
        if database == "sqlite":
            return sqlite_url(work)
        return create_postgres(self.postgres_url, f"steam_import_bench_{label}")

    def release(self, database: str, label: str) -> None:
        if database == "postgresql":
            drop_postgres(self.postgres_url, f"steam_import_bench_{label}")


def stage3_input(enriched: Path, games: int, target: Path) -> int:
    """Write the first `games` game rows of an enriched CSV to `target`; how many were written."""
    rows = decode_rows(enriched.read_bytes(), EnrichedGameRow, what="enriched CSV")
    kept = [row for row in rows if row.match_status is not MatchStatus.FILTERED][:games]
    target.write_bytes(encode_rows(kept, EnrichedGameRow))
    return len(kept)


def run_all(options: Options, *, say: Callable[[str], None]) -> dict[str, Any]:
    """Every case of `options`; the figures as one JSON-ready dict."""
    results: dict[str, Any] = {"meta": describe_machine(options), "cases": {}, "stage3": {}}
    say("handler imports (fresh interpreters)")
    results["handler_imports"] = cold_imports(cwd=REPO, repeats=options.import_repeats)
    databases = Databases(options.postgres_url)
    with (
        tempfile.TemporaryDirectory(prefix="steam-import-bench-") as scratch,
        Sandbox(seed=42) as sb,
    ):
        sb.set_knobs(
            igdb={"latency_ms": LATENCY_MS},
            steam={"latency_ms": LATENCY_MS},
            twitch={"latency_ms": LATENCY_MS},
        )
        largest: Path | None = None
        for size in options.sizes:
            account = sb.users.by_name(size)
            for database in options.databases:
                label = f"{size}_{database}"
                say(f"{size} ({account.expected_game_count} apps) on {database}")
                work = Path(scratch) / label
                work.mkdir()
                spec = {
                    "label": label,
                    "size": size,
                    "database": database,
                    "database_url": databases.url(database, label, work),
                    "work_dir": str(work),
                    "steamid64": str(account.steamid64),
                    "sandbox_env": sb.env(),
                    "sandbox_url": sb.base_url,
                    "changed": options.changed,
                }
                try:
                    figures = run_child("bench.case", spec, work)
                finally:
                    databases.release(database, label)
                figures["apps"] = account.expected_game_count
                results["cases"][label] = figures
                enriched = figures["first"]["locations"]["enriched"]
                largest = Path(scratch) / "largest-enriched.csv"
                shutil.copyfile(enriched.removeprefix("file://"), largest)
                shutil.rmtree(work / "storage", ignore_errors=True)
        if largest is not None:
            target = Path(scratch) / "stage3-input.csv"
            games = stage3_input(largest, options.stage3_games, target)
            for database in options.databases:
                label = f"stage3_{database}"
                say(f"stage 3 alone, {games} games, on {database}")
                work = Path(scratch) / label
                work.mkdir()
                spec = {
                    "label": label,
                    "database": database,
                    "database_url": databases.url(database, label, work),
                    "work_dir": str(work),
                    "enriched_csv": str(target),
                }
                try:
                    figures = run_child("bench.stage3", spec, work)
                finally:
                    databases.release(database, label)
                results["stage3"][database] = figures | {"games": games}
    results["meta"]["load_average_after"] = os.getloadavg()
    return results


def git(*args: str) -> str:
    """Output of a read-only git command in the repository, or "" when git is unavailable."""
    try:
        completed = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return completed.stdout.strip()


def describe_machine(options: Options) -> dict[str, Any]:
    """Commit, machine, interpreter and the options, recorded beside the figures."""
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_before": os.getloadavg(),
        "latency_ms": LATENCY_MS,
        "postgres_available": "postgresql" in options.databases,
        "options": {
            "sizes": options.sizes,
            "databases": options.databases,
            "stage3_games": options.stage3_games,
        },
        "started": time.time(),
    }
