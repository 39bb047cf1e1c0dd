"""The app's users as the pipeline sees them: existence, standalone creation, Steam connection.

The users table is the profile's (`"User"` in the standalone schema and the seed-era app,
`"user"` in today's app); every id and `updatedAt` is written here, as the app's tables have no
database default for them.
"""

from __future__ import annotations

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from lambdas.clients.s3 import validate_user_id
from lambdas.database.loader import utc_now
from lambdas.database.profiles import resolve_profile
from lambdas.database.tables import tables_for
from lambdas.errors import InvalidArgumentError, UserNotFoundError
from lambdas.sql.engine import database_errors


def users_table(connection: Connection, app_schema: str = "auto") -> Table:
    """The users table of the database behind `connection` (APP_SCHEMA `app_schema`)."""
    return tables_for(resolve_profile(connection, app_schema).name).user


def ensure_user(
    engine: Engine,
    *,
    user_id: str,
    create: bool,
    name: str | None = None,
    app_schema: str = "auto",
) -> bool:
    """Check the user exists; with `create`, add it (standalone use). True when created."""
    validate_user_id(user_id)
    with database_errors(), engine.begin() as connection:
        user = users_table(connection, app_schema)
        if connection.execute(select(user.c.id).where(user.c.id == user_id)).first():
            return False
        if not create:
            raise UserNotFoundError(
                f'no user with id {user_id!r} in "{user.name}"; create it in the app first '
                "(or pass --create-user for standalone use)"
            )
        now = utc_now()
        connection.execute(insert(user).values(id=user_id, name=name, createdAt=now, updatedAt=now))
    return True


def refuse_creation_on_app_schema(engine: Engine, *, app_schema: str = "auto") -> None:
    """`--create-user` is for this tool's standalone schema: on the app's database a user is
    someone who signed up in the app, with a name and an email, not a bare row."""
    with database_errors(), engine.connect() as connection:
        profile = resolve_profile(connection, app_schema)
    if not profile.owned_by_us:
        raise InvalidArgumentError(
            f"--create-user is for this tool's standalone schema; this is the app's database "
            f"(profile {profile.name.value}), where users sign up in the app: import with the "
            "id of an existing user"
        )


def forget_user(engine: Engine, *, user_id: str, app_schema: str = "auto") -> None:
    """Delete a user that `ensure_user` created for an import that then failed (nothing of
    the import was written, so nothing refers to it)."""
    with database_errors(), engine.begin() as connection:
        user = users_table(connection, app_schema)
        connection.execute(delete(user).where(user.c.id == user_id))


def linked_steam_id(engine: Engine, *, user_id: str, app_schema: str = "auto") -> str | None:
    """The SteamID64 the user is linked to, or None."""
    with database_errors(), engine.connect() as connection:
        user = users_table(connection, app_schema)
        value = connection.execute(select(user.c.steamId64).where(user.c.id == user_id)).scalar()
    return str(value) if value else None


def connect_steam(
    engine: Engine,
    *,
    user_id: str,
    steam_id64: str,
    persona_name: str | None = None,
    profile_url: str | None = None,
    avatar: str | None = None,
    app_schema: str = "auto",
) -> None:
    """Record the user's Steam account (what `sync` later re-imports), keeping known values.

    Nothing is written when every value is already stored, so a re-import leaves the app's user
    row, `updatedAt` included, as it was."""
    values: dict[str, object] = {"steamId64": steam_id64}
    for column, value in (
        ("steamUsername", persona_name),
        ("steamProfileURL", profile_url),
        ("steamAvatar", avatar),
    ):
        if value:
            values[column] = value
    with database_errors(), engine.begin() as connection:
        user = users_table(connection, app_schema)
        row = connection.execute(
            select(user.c.steamConnectedAt, *(user.c[column] for column in values)).where(
                user.c.id == user_id
            )
        ).first()
        if row is None:
            raise UserNotFoundError(f'no user with id {user_id!r} in "{user.name}"')
        stored = row._mapping
        if row.steamConnectedAt is not None and all(
            stored[column] == value for column, value in values.items()
        ):
            return
        values["updatedAt"] = utc_now()
        if row.steamConnectedAt is None or stored["steamId64"] != steam_id64:
            values["steamConnectedAt"] = values["updatedAt"]
        connection.execute(update(user).where(user.c.id == user_id).values(**values))


def connected_users(engine: Engine, *, app_schema: str = "auto") -> list[tuple[str, str]]:
    """(user id, SteamID64) of every user with a Steam account connected, in id order."""
    with database_errors(), engine.connect() as connection:
        user = users_table(connection, app_schema)
        rows = connection.execute(
            select(user.c.id, user.c.steamId64)
            .where(user.c.steamId64.is_not(None), user.c.steamId64 != "")
            .order_by(user.c.id)
        ).all()
    return [(row.id, row.steamId64) for row in rows]
