"""The README's runnable blocks run: each one, verbatim, in a fresh folder, exits 0.

A shell block in README.md is preceded by one of three markers:

- `<!-- runnable -->`: run as it stands, with no Steam, Twitch or IGDB settings at all (the demo
  starts its own emulator);
- `<!-- runnable: sandbox -->`: run with the session emulator's `export` lines in the environment,
  as the README tells a reader to paste them;
- `<!-- not runnable: reason -->`: needs what a test must not have (real keys, a deployment, the
  test suite itself).

Every block runs with `bash -e` in an empty temporary folder holding only a `run` script that
hands over to the checkout's `./run`, with its own `DATA_DIR` and none of the pipeline's
settings inherited from the environment, so the block depends on nothing the README does not say.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from lambdas.config import Settings
from steam_sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"

_BLOCK = re.compile(
    r"^<!-- (?P<marker>runnable(?:: sandbox)?|not runnable: [^>]+?) -->\n"
    r"```(?:bash|sh|console)\n(?P<body>.*?)^```$",
    re.M | re.S,
)
_ANY_SHELL_BLOCK = re.compile(r"^```(?:bash|sh|console)\n", re.M)


@dataclass(frozen=True)
class Block:
    line: int
    marker: str
    body: str

    @property
    def runnable(self) -> bool:
        return self.marker.startswith("runnable")

    @property
    def needs_sandbox(self) -> bool:
        return self.marker == "runnable: sandbox"


def readme_blocks(text: str) -> list[Block]:
    return [
        Block(text.count("\n", 0, match.start("body")) + 1, match["marker"], match["body"])
        for match in _BLOCK.finditer(text)
    ]


BLOCKS = readme_blocks(README.read_text())
RUNNABLE = [block for block in BLOCKS if block.runnable]


def test_every_shell_block_says_whether_it_runs() -> None:
    """A new shell block without a marker fails here, so none is left out by accident."""
    text = README.read_text()
    shell_blocks = [text.count("\n", 0, m.end()) + 1 for m in _ANY_SHELL_BLOCK.finditer(text)]
    assert sorted(block.line for block in BLOCKS) == shell_blocks
    assert any("steam-import demo" in block.body for block in RUNNABLE)
    assert any(block.needs_sandbox for block in RUNNABLE)


def _environment(data_dir: Path, sandbox: Sandbox | None) -> dict[str, str]:
    pipeline_settings = {name.upper() for name in Settings.model_fields}
    env = {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in pipeline_settings and not key.startswith(("AWS_", "PYTEST_"))
    }
    env["DATA_DIR"] = str(data_dir)
    if sandbox is not None:
        env.update(sandbox.env())
    return env


@pytest.mark.parametrize("block", RUNNABLE, ids=[f"README.md:{block.line}" for block in RUNNABLE])
def test_readme_block_runs(block: Block, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    sandbox: Sandbox | None = (
        request.getfixturevalue("fresh_sandbox") if block.needs_sandbox else None
    )
    wrapper = tmp_path / "run"
    wrapper.write_text(f'#!/bin/sh\nexec "{REPO / "run"}" "$@"\n')
    wrapper.chmod(0o755)
    completed = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block.body],
        cwd=tmp_path,
        env=_environment(tmp_path / "data", sandbox),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, (
        f"README.md:{block.line} exited {completed.returncode}\n"
        f"--- stdout\n{completed.stdout[-3000:]}\n--- stderr\n{completed.stderr[-3000:]}"
    )
    assert (tmp_path / "data").is_dir(), "the block wrote nothing into its DATA_DIR"
    assert not (tmp_path / ".steam-import").exists(), "the block ignored DATA_DIR"
