"""Integration fixtures: one sandbox (Steam + Twitch + IGDB emulator) per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.integration.databases import (  # noqa: F401 - fixtures for every integration test
    db_url,
    engine,
    pg_migrated_url,
    pg_server,
    private_db_url,
    sqlite_template,
)

from steam_sandbox import Sandbox

SANDBOX_SEED = 42


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The emulator on a free port of 127.0.0.1, with real IGDB/Steam limits switched on."""
    with Sandbox(seed=SANDBOX_SEED) as running:
        yield running


@pytest.fixture
def fresh_sandbox(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The session sandbox with initial knobs, zeroed counters and empty rate-limit windows,
    restored again after the test."""
    sandbox.reset()
    yield sandbox
    sandbox.reset()
