"""The Lambda bundle holds the runtime only: no command line, emulator or migrations.

Two checks: each handler imports in a fresh interpreter that refuses every package the zip
leaves out (so a module-level import of one would fail here as it would in AWS), and the zip
`infra/build.sh` makes lists none of them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from bench.cold_import import NOT_IN_BUNDLE, REFUSE_NOT_IN_BUNDLE

ROOT = Path(__file__).resolve().parents[2]

#: Each function's handler module, and what its first invocation imports on top.
HANDLERS = {
    "lambdas.handlers.steam_import": "lambdas.steam.library",
    "lambdas.handlers.igdb_enrichment": "lambdas.enrichment.enrich",
    "lambdas.handlers.database_import": "lambdas.database.loader",
    "lambdas.handlers.start_import": "lambdas.handlers.start_import",
    "lambdas.handlers.scheduled_sync": "lambdas.sync.service",
}

_PROBE = (
    REFUSE_NOT_IN_BUNDLE
    + """
importlib.import_module(sys.argv[1])
importlib.import_module(sys.argv[2])
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""
)


@pytest.mark.parametrize(("handler", "first_call"), HANDLERS.items(), ids=list(HANDLERS))
def test_handler_imports_without_what_the_bundle_leaves_out(handler: str, first_call: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, handler, first_call, ",".join(NOT_IN_BUNDLE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    loaded = set(json.loads(completed.stdout.strip().splitlines()[-1]))
    assert loaded.isdisjoint(NOT_IN_BUNDLE)
    assert "lambdas" in loaded


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to build the Lambda zip (./run installs it)"
    return uv


def test_build_packs_only_the_runtime(tmp_path: Path) -> None:
    uv = _uv()
    env = {
        **os.environ,
        "BUILD_DIR": str(tmp_path),
        "PATH": f"{Path(uv).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHON312": str(tmp_path / "no-python3.12"),  # bytecode is beside the point here and
        "ALLOW_NO_BYTECODE": "1",  # slow: shipped without it, on purpose
    }
    completed = subprocess.run(
        ["bash", "infra/build.sh"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    with zipfile.ZipFile(tmp_path / "lambda.zip") as archive:
        names = archive.namelist()
    top_level = {name.split("/")[0].removesuffix(".py") for name in names}
    assert top_level.isdisjoint(NOT_IN_BUNDLE), sorted(top_level & set(NOT_IN_BUNDLE))
    assert not [name for name in names if name.startswith(("lambdas/cli/", "lambdas/migrations/"))]
    for needed in ("lambdas", "httpx", "pydantic", "pydantic_settings", "structlog", "tenacity"):
        assert needed in top_level, needed
    assert {"sqlalchemy", "psycopg"} <= top_level
    for handler in HANDLERS:
        assert f"{handler.replace('.', '/')}.py" in names
