"""Runs every benchmark case: sandbox in this process, each pipeline run in a fresh child process.

The sandbox (uvicorn in a thread of this process) answers the children over loopback HTTP, so a
child's wall time is not slowed by the emulator competing for its GIL, and a child's peak RSS is
the pipeline's alone: interpreter, imports and data of one (size, database) case, sandbox excluded.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.case import PHASES
from bench.cold_import import cold_imports
from bench.databases import (
    APP_SCHEMAS,
    create_app_schema,
    create_postgres,
    drop_postgres,
    sqlite_url,
)
from bench.stage3 import USER_ID as STAGE3_USER
from lambdas.clients.s3 import LocalStorage
from lambdas.config import Settings
from lambdas.database.schema import upgrade
from lambdas.models.csv_codec import decode_rows, encode_rows
from lambdas.models.rows import EnrichedGameRow, MatchStatus
from lambdas.pipeline import PipelineResult, Stage, run_pipeline
from lambdas.stages import StageContext
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
    #: The app's schemas stage 3 alone also runs into (PostgreSQL, built from the app's DDL).
    app_schemas: tuple[str, ...] = ()
    #: Stage 3 alone takes this many rows of every kind instead of `stage3_games` game rows.
    stage3_apps: int | None = None
    #: Skip the pipeline cases: enrich the largest size once, unmeasured, for stage 3 alone.
    stage3_only: bool = False
    #: Reach `stage3_games` with renumbered copies when the library has fewer game rows.
    stage3_top_up: bool = False


def run_child(module: str, spec: dict[str, Any], work: Path) -> dict[str, Any]:
    """Run `python -m module SPEC OUT` in `work`; its JSON figures (stderr is passed through)."""
    spec_path, out_path = work / "spec.json", work / "out.json"
    spec_path.write_text(json.dumps(spec))
    # Bytecode as the Lambda zip ships it (see bench/cold_import.py): with this machine's
    # PYTHONDONTWRITEBYTECODE, a first phase would time the compiler of its lazy imports too.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    completed = subprocess.run(
        [sys.executable, "-m", module, str(spec_path), str(out_path)],
        cwd=REPO,
        check=False,
        env=env,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{module} failed for {spec.get('label')} (exit {completed.returncode})")
    figures: dict[str, Any] = json.loads(out_path.read_text())
    return figures


def _with_sandbox_cpu(spec: dict[str, Any], work: Path) -> dict[str, Any]:
    """One phase's child, and the CPU this process spent meanwhile: the sandbox's, whose server
    thread is all that runs here while the child works (information: on two cores, the
    emulator's answers compete with the pipeline and the database for the same CPUs)."""
    before = time.process_time()
    figures = run_child("bench.case", spec, work)
    spent = round(time.process_time() - before, 3)
    for phase in spec["phases"]:
        if phase in figures:
            figures[phase]["sandbox_cpu"] = spent
    return figures


def run_case_phases(spec: dict[str, Any], work: Path, *, changed: bool) -> dict[str, Any]:
    """One child per phase on the same database and storage (the state carries over), so each
    phase's peak RSS is its own process's."""
    figures = _with_sandbox_cpu(spec | {"phases": ["first"]}, work)
    phases = ["unchanged", *(["prepare_changed", "changed"] if changed else [])]
    for phase in phases:
        found = _with_sandbox_cpu(spec | {"phases": [phase], "first": figures["first"]}, work)
        figures.update({key: value for key, value in found.items() if key in PHASES})
    measured = [phase for phase in ("first", "unchanged", "changed") if phase in figures]
    figures["peak_rss_first_mb"] = figures["first"]["peak_rss_mb"]
    figures["peak_rss_mb"] = max(figures[phase]["peak_rss_mb"] for phase in measured)
    return figures


class Databases:
    """Hands out a fresh database per case and drops it afterwards."""

    def __init__(self, postgres_url: str) -> None:
        self.postgres_url = postgres_url

    def url(self, database: str, label: str, work: Path) -> str:
        """A fresh database: a SQLite file, an empty PostgreSQL database, or one holding the
        app's schema `database` (one of APP_SCHEMAS) with the stage-3 bench user."""
        if database == "sqlite":
            return sqlite_url(work)
        url = create_postgres(self.postgres_url, self.name(label))
        if database in APP_SCHEMAS:
            create_app_schema(url, database, STAGE3_USER)
        return url

    def release(self, database: str, label: str) -> None:
        if database != "sqlite":
            drop_postgres(self.postgres_url, self.name(label))

    @staticmethod
    def name(label: str) -> str:
        """Named after this process, so two runs on one server never drop each other's."""
        return f"steam_import_bench_{os.getpid()}_{label}"


#: Renumbered copies of game rows take app and IGDB ids from here up: far above the catalogue's,
#: and within the int4 columns that hold them.
COPY_BASE = 1_000_000_000


def stage3_input(
    enriched: Path, target: Path, *, games: int, apps: int | None = None, top_up: bool = False
) -> tuple[int, int, int]:
    """Write the stage-3 input to `target`: the first `apps` rows of an enriched CSV, of every
    kind (a library of that many apps), or else `games` game rows, topped up with `top_up` when
    the library has fewer with renumbered copies of its own (new app id, IGDB id and slug, same
    metadata); (rows, games, copies)."""
    rows = decode_rows(enriched.read_bytes(), EnrichedGameRow, what="enriched CSV")
    if apps is not None:
        kept = rows[:apps]
    else:
        kept = [row for row in rows if row.match_status is not MatchStatus.FILTERED][:games]
    originals, copies = list(kept), 0
    while top_up and apps is None and originals and len(kept) < games:
        row = originals[copies % len(originals)]
        new_id = COPY_BASE + copies
        kept.append(
            row.model_copy(
                update={
                    "appid": new_id,
                    "igdb_id": new_id if row.igdb_id is not None else None,
                    "igdb_slug": f"{row.igdb_slug}-copy-{copies}" if row.igdb_slug else None,
                }
            )
        )
        copies += 1
    target.write_bytes(encode_rows(kept, EnrichedGameRow))
    return len(kept), sum(row.match_status is not MatchStatus.FILTERED for row in kept), copies


def every_row_changed(source: Path, target: Path) -> None:
    """`source` with every row played 10 minutes more, and played just now: a re-import that
    updates every ImportedGame row."""
    rows = decode_rows(source.read_bytes(), EnrichedGameRow, what="enriched CSV")
    now = int(time.time())
    changed = [
        row.model_copy(
            update={
                "playtime_forever": row.playtime_forever + 10,
                "playtime_windows_forever": row.playtime_windows_forever + 10,
                "rtime_last_played": now,
            }
        )
        for row in rows
    ]
    target.write_bytes(encode_rows(changed, EnrichedGameRow))


def run_stage3_alone(
    databases: Databases, database: str, scratch: Path, first: Path, changed: Path
) -> dict[str, Any]:
    """Stage 3 alone on one database: a child for the first and the unchanged import, then a
    fresh child for the re-import with every row changed (its own peak RSS)."""
    label = f"stage3_{database.replace('-', '_')}"
    work = scratch / label
    work.mkdir()
    schema = database if database in APP_SCHEMAS else "standalone"
    spec: dict[str, Any] = {
        "label": label,
        "database": database,
        "schema": schema,
        "database_url": databases.url(database, label, work),
        "work_dir": str(work),
    }
    try:
        phases = [("first", str(first)), ("unchanged", str(first))]
        figures = run_child("bench.stage3", spec | {"phases": phases}, work)
        again = run_child(
            "bench.stage3", spec | {"phases": [("changed", str(changed))], "prepare": False}, work
        )
    finally:
        databases.release(database, label)
    return figures | {"changed": again["changed"], "peak_rss_changed_mb": again["peak_rss_mb"]}


def warm_up(sb: Sandbox, size: str, work: Path) -> None:
    """Stage 1 of sandbox user `size`, unmeasured: the emulator generates a user's library and
    encodes its answers on the first ask and keeps them (huge: half a second of its CPU), which
    would otherwise land in the first case of each size only."""
    _run_unmeasured(sb, size, work, until=Stage.STEAM)


def enrich_unmeasured(sb: Sandbox, size: str, work: Path) -> Path:
    """Stages 1 and 2 of sandbox user `size`, in this process, into `work`; the enriched CSV."""
    result = _run_unmeasured(sb, size, work, until=Stage.ENRICH)
    enriched = getattr(result.response(Stage.ENRICH), "s3_enriched_location", None)
    if enriched is None:
        raise RuntimeError(f"stages 1-2 failed for {size}: {result.as_dict()}")
    return Path(str(enriched).removeprefix("file://"))


def _run_unmeasured(sb: Sandbox, size: str, work: Path, *, until: Stage) -> PipelineResult:
    work.mkdir()
    url = sqlite_url(work)
    upgrade(url)
    settings = Settings(
        **{name.lower(): value for name, value in sb.env().items()}, data_dir=work, database_url=url
    )
    context = StageContext(settings=settings, storage=LocalStorage(work / "storage"))
    event = {"user_id": STAGE3_USER, "steam_id64": str(sb.users.by_name(size).steamid64)}
    result = asyncio.run(
        run_pipeline(first_event=event, context=context, import_id=uuid.uuid4().hex, until=until)
    )
    if not result.success:
        raise RuntimeError(f"the unmeasured run of {size} failed: {result.as_dict()}")
    return result


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
        if options.stage3_only:
            say(f"stages 1-2 of {options.sizes[-1]}, unmeasured, for stage 3 alone")
            largest = enrich_unmeasured(sb, options.sizes[-1], Path(scratch) / "enrich")
        for size in options.sizes if not options.stage3_only else ():
            account = sb.users.by_name(size)
            warm_up(sb, size, Path(scratch) / f"warm-up-{size}")
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
                    "latency_ms": LATENCY_MS,
                    "changed": options.changed,
                }
                try:
                    figures = run_case_phases(spec, work, changed=options.changed)
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
            changed = Path(scratch) / "stage3-changed.csv"
            rows, games, copies = stage3_input(
                largest,
                target,
                games=options.stage3_games,
                apps=options.stage3_apps,
                top_up=options.stage3_top_up,
            )
            every_row_changed(target, changed)
            for database in (*options.databases, *options.app_schemas):
                copied = f", {copies} of them renumbered copies" if copies else ""
                say(f"stage 3 alone, {rows} apps ({games} games{copied}), on {database}")
                figures = run_stage3_alone(databases, database, Path(scratch), target, changed)
                # "apps" only when rows of every kind were asked for.
                apps = rows if options.stage3_apps is not None else None
                results["stage3"][database] = figures | {
                    "games": games,
                    "apps": apps,
                    "copies": copies,
                }
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
