"""Renders benchmark figures as tables and checks them against the targets (bench/README.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.databases import APP_SCHEMAS

PHASES = ("first", "unchanged", "changed")
STAGE3_PHASES = PHASES
TABLES = ("ImportedGame", "Game", "LibraryItem", "Genre", "Platform", "GameGenre", "GamePlatform")

Getter = Callable[[dict[str, Any]], Any]


def _requests(phase: dict[str, Any], service: str) -> int:
    counts = phase["requests"]
    if service == "igdb":  # IGDB's own requests plus the Twitch token
        return sum(counts.get("igdb", {}).values()) + sum(counts.get("twitch", {}).values())
    return sum(counts.get(service, {}).values())


def _seconds(stage: str) -> Getter:
    return lambda phase: phase["seconds"].get(stage, "—")


def _ratio(measured: float, floor: float) -> str:
    return f"{measured / floor:.2f}" if floor > 0 else "—"


def _floor_parts(phase: dict[str, Any]) -> str:
    floor = phase.get("floor")
    if not floor:
        return "—"
    return f"{floor['network']} / {floor['database']} / {floor['parse']}"


ROWS: tuple[tuple[str, Getter], ...] = (
    ("stage 1 steam (s)", _seconds("steam")),
    ("stage 2 enrich (s)", _seconds("enrich")),
    ("stage 3 load (s)", _seconds("load")),
    ("total wall (s)", _seconds("total")),
    ("total CPU (s)", _seconds("cpu")),
    (
        "CPU by stage 1 / 2 / 3 (s)",
        lambda phase: " / ".join(
            str(phase.get("cpu_by_stage", {}).get(stage, "—"))
            for stage in ("steam", "enrich", "load")
        ),
    ),
    ("sandbox CPU meanwhile (s)", lambda phase: phase.get("sandbox_cpu", "—")),
    ("floor: network / database / parse (s)", _floor_parts),
    ("floor total (s)", lambda phase: phase.get("floor", {}).get("total", "—")),
    (
        "total ÷ floor",
        lambda phase: _ratio(phase["seconds"]["total"], phase.get("floor", {}).get("total", 0)),
    ),
    (
        "total ÷ (Steam fetch + state read)",
        lambda phase: _ratio(
            phase["seconds"]["total"], phase.get("floor", {}).get("fetch_and_state", 0)
        ),
    ),
    ("IGDB requests (incl. token)", lambda phase: _requests(phase, "igdb")),
    ("Steam requests", lambda phase: _requests(phase, "steam")),
    ("SQL statements, stage 3", lambda phase: phase["statements"].get("load", 0)),
    ("SQL statements, all", lambda phase: sum(phase["statements"].values())),
    *(
        (f"rows written: {table}", lambda phase, table=table: phase["rows_written"][table])
        for table in TABLES
    ),
    (
        "ImportedGame updated",
        lambda phase: phase["result"]["load"]["stats"]["imported_games_updated"],
    ),
    ("unchanged (stages 2 and 3 skipped)", lambda phase: phase.get("unchanged", "—")),
    ("peak RSS of the phase (MiB)", lambda phase: phase["peak_rss_mb"]),
    (
        "peak RSS by stage 1 / 2 / 3 (MiB)",
        lambda phase: " / ".join(
            str(phase.get("peak_rss_by_stage_mb", {}).get(stage, "—"))
            for stage in ("steam", "enrich", "load")
        ),
    ),
)


def size_table(size: str, cases: dict[str, dict[str, Any]]) -> Table:
    """One table for a library size: a column per (database, phase)."""
    found = {label: case for label, case in cases.items() if case["spec"]["size"] == size}
    apps = next(iter(found.values()))["apps"]
    table = Table(
        title=f"{size}: {apps} apps, sandbox latency 100 ms, IGDB 4 req/s", title_justify="left"
    )
    table.add_column("measure")
    columns: list[dict[str, Any]] = []
    for case in found.values():
        for phase in PHASES:
            if phase in case:
                table.add_column(f"{case['spec']['database']}\n{phase}", justify="right")
                columns.append(case[phase])
    for name, getter in ROWS:
        table.add_row(name, *(str(getter(phase)) for phase in columns))
    return table


def stage3_table(stage3: dict[str, dict[str, Any]]) -> Table:
    """Stage 3 alone on the prepared enriched CSV, per database and phase."""
    first = next(iter(stage3.values()))
    apps = first.get("apps")
    title = f"stage 3 alone: {first['games']} games" + (f" of {apps} apps" if apps else "")
    if first.get("copies"):
        title += f" ({first['copies']} of them renumbered copies of the library's games)"
    table = Table(title=title, title_justify="left")
    for column in (
        "database",
        "phase",
        "wall (s)",
        "CPU (s)",
        "statements",
        "ImportedGame",
        "Game",
        "LibraryItem",
        "updated",
        "peak RSS (MB)",
    ):
        table.add_column(column, justify="left" if column in ("database", "phase") else "right")
    for database, figures in stage3.items():
        for phase in STAGE3_PHASES:
            if phase not in figures:
                continue
            run = figures[phase]
            written = run["rows_written"]
            table.add_row(
                database,
                phase,
                str(run["seconds"]),
                str(run["cpu"]),
                str(run["statements"]),
                *(str(written[name]) for name in ("ImportedGame", "Game", "LibraryItem")),
                str(run["stats"].get("imported_games_updated", "—")),
                str(run.get("peak_rss_mb", "—")),
            )
    return table


def imports_table(imports: dict[str, dict[str, float]], repeats: int = 3) -> Table:
    """Median cold import per handler module."""
    table = Table(
        title=f"handler cold import (median of {repeats} fresh interpreters)", title_justify="left"
    )
    table.add_column("module")
    table.add_column("import (s)", justify="right")
    table.add_column("+ stage services (s)", justify="right")
    for module, figures in imports.items():
        table.add_row(module, str(figures["import"]), str(figures["with_first_call"]))
    return table


def _case(results: dict[str, Any], size: str, database: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = results["cases"].get(f"{size}_{database}")
    return found


def targets(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for every target the run has figures for."""
    checks: list[tuple[str, str, str]] = []

    def check(name: str, measured: Any, ok: bool) -> None:
        checks.append((name, str(measured), "met" if ok else "MISSED"))

    for size, limit in (("large", 2), ("huge", 6)):
        case = _case(results, size, "postgresql") or _case(results, size, "sqlite")
        if case:
            used = _requests(case["first"], "igdb")
            check(f"IGDB requests, {size} first import ≤ {limit}", used, used <= limit)
    for database in ("postgresql", "sqlite"):
        for size in ("large", "huge"):
            case = _case(results, size, database)
            if case and case["first"].get("floor"):
                total, floor = case["first"]["seconds"]["total"], case["first"]["floor"]["total"]
                check(
                    f"first import, {size}, {database}: wall ≤ 2 × floor",
                    f"{total} s ÷ {floor} s = {_ratio(total, floor)}",
                    total <= 2 * floor,
                )
        huge = _case(results, "huge", database)
        if huge and huge["unchanged"].get("floor"):
            phase = huge["unchanged"]
            total, reference = phase["seconds"]["total"], phase["floor"]["fetch_and_state"]
            check(
                f"unchanged re-import, huge, {database}: wall ≤ 1.5 × (fetch + state)",
                f"{total} s ÷ {reference} s = {_ratio(total, reference)}",
                total <= 1.5 * reference,
            )
            touched = (
                sum(phase["rows_written"].values())
                + phase["result"]["load"]["stats"]["imported_games_updated"]
            )
            check(f"unchanged re-import, huge, {database}: rows touched", touched, touched == 0)
        if huge and "changed" in huge:
            changed, unchanged = (
                huge["changed"]["seconds"]["total"],
                huge["unchanged"]["seconds"]["total"],
            )
            check(
                f"1% new + 10% played, huge, {database}: wall ≤ 1.3 × unchanged",
                f"{changed} s ÷ {unchanged} s = {_ratio(changed, unchanged)}",
                changed <= 1.3 * unchanged,
            )
        if huge:
            for phase in PHASES:
                if phase in huge:
                    peak = huge[phase]["peak_rss_mb"]
                    check(f"peak RSS, huge {phase}, {database} < 250 MB", peak, peak < 250)
    for database, figures in results["stage3"].items():
        size = f"{figures['apps']} apps" if figures.get("apps") else f"{figures['games']} games"
        if database in APP_SCHEMAS:
            for phase in ("first", "changed"):
                peak = figures[phase]["peak_rss_mb"]
                check(f"peak RSS, stage 3, {size}, {database}, {phase} < 250 MB", peak, peak < 250)
    for database in ("postgresql", "sqlite"):
        firsts = {
            case["first"]["statements"].get("load", 0)
            for case in results["cases"].values()
            if case["spec"]["database"] == database
        }
        # Pipeline cases only: stage 3 alone loads no wishlist, so it runs fewer statements
        # at every size, and comparing it with a pipeline case would report growth that is not.
        if len(firsts) > 0:
            seen = sorted(firsts)
            check(f"stage-3 statements constant, {database}, first", seen, len(seen) == 1)
    for module, figures in results["handler_imports"].items():
        worst = figures["with_first_call"]
        limit = 1.0 if module.endswith("database_import") else 0.6
        check(f"cold import {module.rsplit('.', 1)[-1]} < {limit:g} s", worst, worst < limit)
    return checks


def targets_table(results: dict[str, Any]) -> Table:
    table = Table(title="targets", title_justify="left")
    for column in ("target", "measured", "verdict"):
        table.add_column(column)
    for row in targets(results):
        table.add_row(*row)
    return table


def print_report(results: dict[str, Any], console: Console, *, smoke: bool = False) -> None:
    """Every table, in reading order; a smoke run's tiny sizes are not checked against targets."""
    meta = results["meta"]
    console.print(
        f"commit {meta['commit'][:12]}{' (dirty)' if meta['dirty'] else ''}, {meta['cpus']} × "
        f"{meta['cpu']}, {meta['memory_gib']} GiB, Python {meta['python']}, load average "
        f"{meta['load_average_before'][0]:.2f} before / {meta['load_average_after'][0]:.2f} after",
        highlight=False,
    )
    sizes = list(dict.fromkeys(case["spec"]["size"] for case in results["cases"].values()))
    for size in sizes:
        console.print(size_table(size, results["cases"]))
    if results["stage3"]:
        console.print(stage3_table(results["stage3"]))
    console.print(imports_table(results["handler_imports"], 1 if smoke else 3))
    if smoke:
        console.print("smoke run: the runner works; its sizes are too small for the targets")
    else:
        console.print(targets_table(results))
