"""The npm folders of the tests marked `node` (Prisma's parser, Prisma's client): each pins its
packages in a package-lock.json, and `npm ci` installs them there from the npm registry once,
then from npm's cache, offline. Install scripts never run (`--ignore-scripts`): nothing is
downloaded beside the registry's packages."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

WITHOUT_NODE = "./run tests -m 'not live and not node'"


def require_node(what: str) -> None:
    """Fail saying how to run the rest when `node` or `npm` is not on PATH."""
    missing = [program for program in ("node", "npm") if shutil.which(program) is None]
    if missing:
        pytest.fail(
            f"{what} need Node.js and npm ({' and '.join(missing)} not on PATH); install "
            f"Node.js, or run everything else: {WITHOUT_NODE}",
            pytrace=False,
        )


def _installed(folder: Path) -> bool:
    """Every package the folder depends on is installed at the version its lock file pins."""
    packages = json.loads((folder / "package-lock.json").read_text())["packages"]
    for name in packages[""]["dependencies"]:
        manifest = folder / "node_modules" / name / "package.json"
        pinned = packages[f"node_modules/{name}"]["version"]
        if not manifest.exists() or json.loads(manifest.read_text())["version"] != pinned:
            return False
    return True


def npm_ci(folder: Path, what: str) -> None:
    """Install `folder`'s locked packages unless they are there already."""
    require_node(what)
    if _installed(folder):
        return
    command = ["npm", "ci", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"]
    done = subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        pytest.fail(
            f"`{' '.join(command)}` in {folder} failed ({done.returncode}); npm said:\n"
            f"{done.stderr.strip() or done.stdout.strip()}\n"
            f"{what} come from the npm registry once, then from npm's cache; without them, "
            f"run the rest: {WITHOUT_NODE}",
            pytrace=False,
        )
