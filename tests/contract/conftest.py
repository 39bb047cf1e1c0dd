"""The contract suite's target fixture and its guards.

Every contract test takes `target`: once against the emulator (always), once against the real
services (marked `live`, deselected by default). A run that selects live tests without the
credentials stops before collection ends, naming what is missing, so no request is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.contract.targets import (
    ENV_FILE,
    Target,
    emulator_target,
    live_target,
    live_values,
    missing_live_variables,
)
from tests.integration.databases import pg_server  # noqa: F401 - a fixture

from lambdas.clients.igdb import reset_process_caches
from steam_sandbox import Sandbox

SANDBOX_SEED = 42
_LIVE_VALUES = pytest.StashKey[dict[str, str]]()
_TARGETS = pytest.StashKey[list[Target]]()


def pytest_configure(config: pytest.Config) -> None:
    # Read now: the suite's autouse fixture clears these variables before every test.
    config.stash[_LIVE_VALUES] = live_values(config.rootpath)
    config.stash[_TARGETS] = []


@pytest.hookimpl(trylast=True)  # after `-m` deselected what it deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("live") for item in items):
        return
    missing = missing_live_variables(config.stash[_LIVE_VALUES])
    if missing:
        raise pytest.UsageError(
            f"live tests need {', '.join(missing)}: set them in the environment or in "
            f"{ENV_FILE} (see {ENV_FILE}.example)"
        )
    if all(item.get_closest_marker("live") for item in items):
        # A live-only run covers a sliver of the code; the suite's coverage floor is for
        # `./run tests`, not for this check of the real services.
        coverage = config.pluginmanager.get_plugin("_cov")  # pytest-cov, under --cov
        if coverage is not None:
            coverage.options.cov_fail_under = None


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    for target in config.stash[_TARGETS]:
        counts = target.traffic.counts
        terminalreporter.write_line(
            f"contract requests to the {target.name}: {target.traffic.total} "
            f"(steam {counts['steam']}, twitch {counts['twitch']}, igdb {counts['igdb']})"
        )


@pytest.fixture(scope="session")
def contract_sandbox() -> Iterator[Sandbox]:
    """The emulator for this suite alone, with its real limits on, over HTTP on a free port."""
    with Sandbox(seed=SANDBOX_SEED) as running:
        yield running


@pytest.fixture(
    scope="session",
    params=[pytest.param("emulator"), pytest.param("live", marks=pytest.mark.live)],
)
def target(request: pytest.FixtureRequest) -> Target:
    """The upstreams a contract test talks to: the emulator, or the real services."""
    if request.param == "emulator":
        chosen = emulator_target(request.getfixturevalue("contract_sandbox"))
    else:
        chosen = live_target(request.config.stash[_LIVE_VALUES])
    request.config.stash[_TARGETS].append(chosen)
    return chosen


@pytest.fixture(autouse=True)
def cold_igdb_caches() -> Iterator[None]:
    """Our clients start each test like a new process: no cached token or lookup."""
    reset_process_caches()
    yield
    reset_process_caches()
