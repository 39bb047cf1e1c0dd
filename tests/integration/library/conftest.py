"""Fixtures of the library-placement tests: the database tests' user and the app schemas."""

from __future__ import annotations

from tests.integration.app_schemas.conftest import app_db  # noqa: F401 - fixture
from tests.integration.db.conftest import user_id  # noqa: F401 - fixture
