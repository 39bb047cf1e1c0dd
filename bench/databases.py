"""Throwaway databases for benchmark cases: a fresh PostgreSQL database or SQLite file per case."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def postgres_available(admin_url: str) -> bool:
    """True when the server answers on `admin_url`."""
    engine = sqlalchemy.create_engine(admin_url)
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def _admin(admin_url: str, statement: str) -> None:
    engine = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def create_postgres(admin_url: str, name: str) -> str:
    """(Re)create database `name` on the server of `admin_url`; its URL."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"unsafe database name {name!r}")
    drop_postgres(admin_url, name)
    _admin(admin_url, f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres(admin_url: str, name: str) -> None:
    """Drop database `name` if it exists (connections left over are closed first)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"unsafe database name {name!r}")
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_url(folder: Path) -> str:
    """A new SQLite file in `folder`."""
    return f"sqlite:///{(folder / 'bench.db').resolve()}"


#: The app's own schemas, built from the DDL the tests write from the app's migrations.
APP_SCHEMAS = ("savepoint-2025", "savepoint-2026")
_APP_DDL = Path(__file__).resolve().parent.parent / "tests" / "app_schemas"
_USER_TABLE = {"savepoint-2025": "User", "savepoint-2026": "user"}


def user_table(schema: str) -> str:
    """The name of the users table in `schema` (`standalone` or one of APP_SCHEMAS)."""
    return _USER_TABLE.get(schema, "User")


def create_app_schema(url: str, schema: str, user_id: str) -> None:
    """Build the app's schema `schema` in the empty database at `url`, with one user."""
    ddl = (_APP_DDL / f"{schema.replace('-', '_')}.sql").read_text()
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(ddl)
            connection.execute(
                sqlalchemy.text(
                    f'INSERT INTO "{user_table(schema)}" (id, "updatedAt") VALUES (:id, now())'
                ),
                {"id": user_id},
            )
    finally:
        engine.dispose()
