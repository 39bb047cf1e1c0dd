"""Settings and storage that point the real stage code at the session sandbox over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdas.clients.s3 import LocalStorage
from lambdas.config import Settings
from steam_sandbox import Sandbox


@pytest.fixture
def sandbox_settings(fresh_sandbox: Sandbox, tmp_path: Path) -> Settings:
    """Sandbox URLs and credentials, a per-test data folder, quick retries."""
    return Settings(
        **{name.lower(): value for name, value in fresh_sandbox.env().items()},
        data_dir=tmp_path / "data",
        retry_initial_wait_seconds=0.01,
        retry_max_wait_seconds=0.2,
        http_read_timeout=5.0,
    )


@pytest.fixture
def storage(sandbox_settings: Settings) -> LocalStorage:
    return LocalStorage(sandbox_settings.data_dir)
