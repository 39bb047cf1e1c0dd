"""`python -m bench`: the benchmarks and their targets (bench/README.md), printed as tables and
saved as JSON under bench/results/.

`sync-sim --users N` syncs N users with overlapping libraries instead (bench/sync_sim.py).
`cold-import [--repeats 3]` prints only the handlers' cold import times (bench/cold_import.py).
`--smoke` runs the smallest user on SQLite only (seconds; CI runs it so the runner cannot rot).
Figures are printed, never asserted: the exit status is non-zero only when a pipeline run fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bench.databases import APP_SCHEMAS, DEFAULT_POSTGRES_URL, postgres_available
from bench.report import print_report
from bench.runner import REPO, STAGE3_GAMES, Options, run_all
from lambdas.logging import configure_logging

RESULTS = REPO / "bench" / "results"
SIZES = ("small", "medium", "large", "huge")


def parse(argv: list[str]) -> tuple[Options, Path | None]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="small user, SQLite only, seconds")
    parser.add_argument(
        "--sizes", default="medium,large,huge", help="sandbox users, comma-separated"
    )
    parser.add_argument("--databases", default="postgresql,sqlite", help="postgresql and/or sqlite")
    parser.add_argument("--stage3-games", type=int, default=STAGE3_GAMES)
    parser.add_argument(
        "--stage3-apps", type=int, default=None, help="stage 3 alone: N rows of every kind instead"
    )
    parser.add_argument(
        "--app-schemas",
        default=",".join(APP_SCHEMAS),
        help="stage 3 alone also into these app schemas (PostgreSQL; empty for none)",
    )
    parser.add_argument(
        "--stage3-only", action="store_true", help="no pipeline cases: stage 3 alone only"
    )
    parser.add_argument(
        "--stage3-top-up",
        action="store_true",
        help="reach --stage3-games with renumbered copies of the library's games",
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="server admin URL")
    parser.add_argument(
        "--output", type=Path, default=None, help="JSON file (default bench/results/)"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        return Options(
            ("small",), ("sqlite",), args.stage3_games, args.postgres_url, import_repeats=1
        ), args.output
    databases = tuple(name for name in args.databases.split(",") if name)
    unknown = set(databases) - {"postgresql", "sqlite"}
    if unknown:
        parser.error(f"unknown databases: {', '.join(sorted(unknown))}")
    sizes = tuple(name for name in args.sizes.split(",") if name)
    if not sizes or set(sizes) - set(SIZES):
        parser.error(f"--sizes takes sandbox users among {', '.join(SIZES)}")
    app_schemas = tuple(name for name in args.app_schemas.split(",") if name)
    if set(app_schemas) - set(APP_SCHEMAS):
        parser.error(f"--app-schemas takes {', '.join(APP_SCHEMAS)}")
    options = Options(
        sizes,
        databases,
        args.stage3_games,
        args.postgres_url,
        app_schemas=app_schemas,
        stage3_apps=args.stage3_apps,
        stage3_only=args.stage3_only,
        stage3_top_up=args.stage3_top_up,
    )
    return options, args.output


def cold_import(argv: list[str]) -> int:
    """Median cold import of each handler, as the full run's "handler cold import" table."""
    from bench.cold_import import cold_imports
    from bench.report import imports_table

    parser = argparse.ArgumentParser(prog="python -m bench cold-import")
    parser.add_argument("--repeats", type=int, default=3, help="fresh interpreters per handler")
    args = parser.parse_args(argv)
    console = Console()
    console.print(imports_table(cold_imports(cwd=REPO, repeats=args.repeats), args.repeats))
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["sync-sim"]:  # the many-users sync benchmark, its own options
        from bench.sync_sim import main as sync_sim

        return sync_sim(argv[1:])
    if argv[:1] == ["cold-import"]:  # the Lambda handlers' cold import alone, in seconds
        return cold_import(argv[1:])
    options, output = parse(argv)
    # The unmeasured runs in this process (the warm-up, stage 3 alone's input) log only problems;
    # the children configure their own logging.
    configure_logging(level="WARNING", stream=sys.stderr)
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    if "postgresql" in options.databases and not postgres_available(options.postgres_url):
        console.print(f"PostgreSQL is not reachable at {options.postgres_url}: SQLite only")
        options = replace(options, databases=("sqlite",), app_schemas=())
    try:
        results = run_all(options, say=lambda text: console.print(f"[dim]… {text}[/]"))
    except RuntimeError as exc:
        console.print(f"[bold red]benchmark failed[/]: {exc}")
        return 1
    print_report(results, console, smoke=options.sizes == ("small",))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    commit = results["meta"]["commit"][:12] or "nocommit"
    kind = "smoke" if options.sizes == ("small",) else "full"
    path = output or RESULTS / f"{stamp}-{commit}-{kind}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str))
    console.print(f"figures saved to {path}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
