"""Pipeline fixtures: the sandbox, a database of each backend, local or S3 storage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from lambdas.clients.igdb import reset_process_caches
from lambdas.clients.s3 import LocalStorage
from lambdas.config import Settings
from lambdas.stages import StageContext
from steam_sandbox import Sandbox


@pytest.fixture(autouse=True)
def cold_igdb_caches() -> Iterator[None]:
    reset_process_caches()
    yield
    reset_process_caches()


def sandbox_settings_for(sandbox: Sandbox, tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        **{name.lower(): value for name, value in sandbox.env().items()},
        data_dir=tmp_path / "data",
        retry_initial_wait_seconds=0.01,
        retry_max_wait_seconds=0.2,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def context(fresh_sandbox: Sandbox, tmp_path: Path, db_url: str, engine: Engine) -> StageContext:
    """Sandbox upstreams, a local folder, and a migrated, empty database of each backend."""
    from pydantic import SecretStr

    settings = sandbox_settings_for(fresh_sandbox, tmp_path, database_url=SecretStr(db_url))
    return StageContext(settings=settings, storage=LocalStorage(settings.data_dir), engine=engine)
