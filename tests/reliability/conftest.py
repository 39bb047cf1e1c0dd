"""The reliability suite's plugin and fixtures: the figures (faults injected / survived, hostile
inputs tried / handled, rows lost, secret leaks), a sandbox, a PostgreSQL database of its own, and
a harness that runs the real pipeline.

Tests count through the `reliability` fixture; tests/conftest.py prints the figures at the end of
the run (added up over pytest-xdist's workers), only when a reliability test recorded something.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from tests.integration.databases import pg_server  # noqa: F401 - a fixture
from tests.reliability.support import (
    FIGURES,
    Figures,
    Harness,
    PostgresDatabases,
    Snapshot,
    empty_tables,
    rows_in,
    sandbox_settings,
)

from lambdas.clients.igdb import reset_process_caches
from lambdas.clients.s3 import LocalStorage
from lambdas.sql.engine import create_engine
from steam_sandbox import Sandbox

SANDBOX_SEED = 42


@pytest.fixture
def reliability() -> Figures:
    """The suite's figures; tests record every fault, hostile input, lost row and leak."""
    return FIGURES


# -- upstreams -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rel_sandbox() -> Iterator[Sandbox]:
    """The emulator, with real IGDB/Steam limits, for this suite alone."""
    with Sandbox(seed=SANDBOX_SEED) as running:
        yield running


@pytest.fixture
def sandbox(rel_sandbox: Sandbox) -> Iterator[Sandbox]:
    """The suite's sandbox with initial knobs and zeroed counters, restored after the test."""
    rel_sandbox.reset()
    yield rel_sandbox
    rel_sandbox.reset()


@pytest.fixture(autouse=True)
def cold_igdb_caches() -> Iterator[None]:
    """Every test starts like a new process: no IGDB token, no cached lookups."""
    reset_process_caches()
    yield
    reset_process_caches()


# -- PostgreSQL ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_databases(request: pytest.FixtureRequest) -> PostgresDatabases:
    """The session's PostgreSQL test-database helper, shared with the integration suite."""
    server: PostgresDatabases = request.getfixturevalue("pg_server")
    return server


@pytest.fixture(scope="session")
def rel_db_url(pg_databases: PostgresDatabases) -> str:
    return pg_databases.create_migrated()


@pytest.fixture
def db_engine(rel_db_url: str) -> Iterator[Engine]:
    """The suite's migrated PostgreSQL database, emptied before the test."""
    engine = create_engine(rel_db_url)
    empty_tables(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def harness(sandbox: Sandbox, db_engine: Engine, rel_db_url: str, tmp_path: Path) -> Harness:
    """The pipeline over the sandbox, a per-test local folder and the emptied database, with the
    test user created."""
    settings = sandbox_settings(sandbox, tmp_path / "data", database_url=SecretStr(rel_db_url))
    harness = Harness(
        sandbox=sandbox,
        engine=db_engine,
        db_url=rel_db_url,
        storage=LocalStorage(settings.data_dir),
        settings=settings,
    )
    harness.ensure_user()
    return harness


@pytest.fixture(scope="session")
def clean_state(
    rel_sandbox: Sandbox, rel_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Snapshot:
    """The database after one clean, fault-free import of the test library: every retry after a
    fault must end in exactly this state."""
    rel_sandbox.reset()
    reset_process_caches()
    engine = create_engine(rel_db_url)
    empty_tables(engine)
    data = tmp_path_factory.mktemp("clean-run") / "data"
    harness = Harness(
        sandbox=rel_sandbox,
        engine=engine,
        db_url=rel_db_url,
        storage=LocalStorage(data),
        settings=sandbox_settings(rel_sandbox, data, database_url=SecretStr(rel_db_url)),
    )
    harness.ensure_user()
    result = harness.run()
    assert result.success, result.as_dict()
    state = harness.snapshot()
    empty_tables(engine)
    engine.dispose()
    reset_process_caches()
    rel_sandbox.reset()
    assert rows_in(state) > 1000  # 353 imported games, 302 games, their links and items
    return state
