"""Database-test fixtures: a User row in each backend's fresh database."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from tests.integration.databases import USER_ID

from lambdas.models.db import User


def add_user(engine: Engine, user_id: str = USER_ID) -> str:
    """Insert a User the way the app does (writer-supplied id and updatedAt)."""
    with engine.begin() as connection:
        connection.execute(
            insert(User).values(
                id=user_id, name="Zoë “Player” 🎮", updatedAt=text("CURRENT_TIMESTAMP")
            )
        )
    return user_id


@pytest.fixture
def user_id(engine: Engine) -> str:
    return add_user(engine)
