"""The app's users as the pipeline sees them: existence, standalone creation, Steam connection."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from lambdas.clients.s3 import validate_user_id
from lambdas.database.engine import database_errors
from lambdas.database.loader import utc_now
from lambdas.errors import UserNotFoundError
from lambdas.models.db import User


def ensure_user(engine: Engine, *, user_id: str, create: bool, name: str | None = None) -> bool:
    """Check the user exists; with `create`, add it (standalone use). True when created."""
    validate_user_id(user_id)
    with database_errors(), engine.begin() as connection:
        if connection.execute(select(User.id).where(User.id == user_id)).first():
            return False
        if not create:
            raise UserNotFoundError(
                f"no User with id {user_id!r}; create it in the app first "
                "(or pass --create-user for standalone use)"
            )
        now = utc_now()
        connection.execute(insert(User).values(id=user_id, name=name, createdAt=now, updatedAt=now))
    return True


def connect_steam(
    engine: Engine,
    *,
    user_id: str,
    steam_id64: str,
    persona_name: str | None = None,
    profile_url: str | None = None,
    avatar: str | None = None,
) -> None:
    """Record the user's Steam account (what `sync` later re-imports), keeping known values."""
    values: dict[str, object] = {"steamId64": steam_id64, "updatedAt": utc_now()}
    for column, value in (
        ("steamUsername", persona_name),
        ("steamProfileURL", profile_url),
        ("steamAvatar", avatar),
    ):
        if value:
            values[column] = value
    with database_errors(), engine.begin() as connection:
        row = connection.execute(
            select(User.steamId64, User.steamConnectedAt).where(User.id == user_id)
        ).first()
        if row is None:
            raise UserNotFoundError(f"no User with id {user_id!r}")
        if row.steamConnectedAt is None or row.steamId64 != steam_id64:
            values["steamConnectedAt"] = values["updatedAt"]
        connection.execute(update(User).where(User.id == user_id).values(**values))


def connected_users(engine: Engine) -> list[tuple[str, str]]:
    """(user id, SteamID64) of every user with a Steam account connected, in id order."""
    with database_errors(), engine.connect() as connection:
        rows = connection.execute(
            select(User.id, User.steamId64)
            .where(User.steamId64.is_not(None), User.steamId64 != "")
            .order_by(User.id)
        ).all()
    return [(row.id, row.steamId64) for row in rows]
