"""Cold import time of each Lambda handler module, each measured in a fresh interpreter."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

#: Handler module → the service module its stage function needs on the first invocation (a
#: handler may defer it; a cold start pays for both).
HANDLERS = {
    "lambdas.handlers.steam_import": "lambdas.services.steam_import",
    "lambdas.handlers.igdb_enrichment": "lambdas.services.enrichment",
    "lambdas.handlers.database_import": "lambdas.services.database",
}

_PROBE = """
import importlib, json, sys, time
started = time.perf_counter()
importlib.import_module(sys.argv[1])
imported = time.perf_counter()
importlib.import_module(sys.argv[2])
ready = time.perf_counter()
print(json.dumps({"import": imported - started, "with_first_call": ready - started}))
"""


def probe(module: str, first_call: str, *, cwd: Path) -> dict[str, float]:
    """Seconds to import `module`, then with `first_call` too, in a new interpreter."""
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, module, first_call],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{completed.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def cold_imports(*, cwd: Path, repeats: int = 3) -> dict[str, dict[str, float]]:
    """Median over `repeats` fresh interpreters, per handler module."""
    results: dict[str, dict[str, float]] = {}
    for module, first_call in HANDLERS.items():
        runs = [probe(module, first_call, cwd=cwd) for _ in range(repeats)]
        results[module] = {
            key: round(statistics.median(run[key] for run in runs), 3)
            for key in ("import", "with_first_call")
        }
    return results
