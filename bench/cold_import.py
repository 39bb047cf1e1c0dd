"""Cold import time of each Lambda handler module, each measured in a fresh interpreter."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

#: Handler module → the service module its stage function needs on the first invocation (a
#: handler may defer it; a cold start pays for both).
HANDLERS = {
    "lambdas.handlers.steam_import": "lambdas.steam.library",
    "lambdas.handlers.igdb_enrichment": "lambdas.enrichment.enrich",
    "lambdas.handlers.database_import": "lambdas.database.loader",
}

#: Installed for the command line, the emulator or migrations, but not packed into the Lambda zip
#: (infra/build.sh): the probe refuses them, so it imports what a cold start in AWS imports.
NOT_IN_BUNDLE = (
    "typer",
    "click",
    "rich",
    "pygments",
    "alembic",
    "mako",
    "starlette",
    "uvicorn",
    "steam_sandbox",
)

#: Probe preamble: refuse the packages named (comma-separated) in sys.argv[3].
REFUSE_NOT_IN_BUNDLE = """
import importlib, importlib.abc, json, sys, time

class NotInBundle(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in sys.argv[3].split(","):
            raise ModuleNotFoundError(f"{name} is not in the Lambda bundle", name=name)
        return None

sys.meta_path.insert(0, NotInBundle())
"""

_PROBE = (
    REFUSE_NOT_IN_BUNDLE
    + """
started = time.perf_counter()
importlib.import_module(sys.argv[1])
imported = time.perf_counter()
importlib.import_module(sys.argv[2])
ready = time.perf_counter()
print(json.dumps({"import": imported - started, "with_first_call": ready - started}))
"""
)


def probe(module: str, first_call: str, *, cwd: Path) -> dict[str, float]:
    """Seconds to import `module`, then with `first_call` too, in a new interpreter.

    Bytecode may be written and read, as in the Lambda zip, which ships compiled `.pyc`
    (infra/build.sh): with PYTHONDONTWRITEBYTECODE set, as on this machine, every run would
    compile SQLAlchemy from source and measure the compiler instead of the import.
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, module, first_call, ",".join(NOT_IN_BUNDLE)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{completed.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def cold_imports(*, cwd: Path, repeats: int = 3) -> dict[str, dict[str, float]]:
    """Median over `repeats` fresh interpreters, per handler module, after one unmeasured run
    that leaves the bytecode in place."""
    results: dict[str, dict[str, float]] = {}
    for module, first_call in HANDLERS.items():
        probe(module, first_call, cwd=cwd)
        runs = [probe(module, first_call, cwd=cwd) for _ in range(repeats)]
        results[module] = {
            key: round(statistics.median(run[key] for run in runs), 3)
            for key in ("import", "with_first_call")
        }
    return results
