"""Database fixtures for every integration test: a real PostgreSQL database per session
(dropped at the end), private ones copied from a migrated template, and SQLite files.

Tests that take `db_url`, `engine` or `user_id` run once per backend, with ids `sqlite` and
`postgresql`. Which PostgreSQL server the session uses (one you name, the one at 127.0.0.1:5432,
or a throwaway one) is decided once, in tests/postgres.py.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from tests import postgres

from lambdas.database.schema import upgrade
from lambdas.models.db import metadata
from lambdas.sql.engine import create_engine
from lambdas.state import app_cache, filtered  # noqa: F401 - declare the own-state tables
from lambdas.state.schema import own_state_metadata

BACKENDS = ["sqlite", "postgresql"]
DROPPERS = 4  # databases dropped at once
USER_ID = "cuser0000000000000000000001"


class PostgresServer:
    """Creates uniquely named databases (migrated ones copied from a template built once) and
    drops them: a test's private database in the background once the test is done, the rest at
    the end of the session, several at a time (each DROP waits for a checkpoint; concurrent ones
    share it)."""

    def __init__(self, admin_url: str, *, keep_nothing: bool = True) -> None:
        self.admin = sqlalchemy.create_engine(
            admin_url, isolation_level="AUTOCOMMIT", pool_size=DROPPERS + 1
        )
        self.url = sqlalchemy.engine.make_url(admin_url)
        self.keep_nothing = keep_nothing  # False for a throwaway server, deleted whole at the end
        self._created: list[str] = []
        self._roles: list[str] = []
        self._templates: dict[str, str] = {}
        self._dropper = ThreadPoolExecutor(DROPPERS, thread_name_prefix="drop-database")
        self._drops: list[Future[None]] = []

    def create(self, *, owner: str | None = None, template: str | None = None) -> str:
        name = f"steam_import_test_{secrets.token_hex(5)}"
        owned = f' OWNER "{owner}"' if owner else ""
        copied = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{owned}{copied}'))
        self._created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create_from(self, kind: str, build: Callable[[str], object]) -> str:
        """A new database with what `build(url)` puts into an empty one: built once per session
        into a template database, then copied (CREATE DATABASE … TEMPLATE), which takes a
        fraction of running migrations or DDL again."""
        template = self._templates.get(kind)
        if template is None:
            url = self.create()
            build(url)
            template = str(sqlalchemy.engine.make_url(url).database)
            self.terminate_others(template)  # a template is copied only with no one connected
            self._templates[kind] = template
        return self.create(template=template)

    def create_migrated(self) -> str:
        """A new database at the head revision of this project's schema."""
        return self.create_from("migrated", upgrade)

    def drop_soon(self, url: str) -> None:
        """Drop a database no test needs any more, in the background."""
        name = str(sqlalchemy.engine.make_url(url).database)
        if name in self._created and self.keep_nothing:
            self._created.remove(name)
            self._drops.append(self._dropper.submit(self._drop, name))

    def _drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def create_role(self, name: str, password: str) -> None:
        """A login role with a password (the password is a test canary, never a real one)."""
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
            connection.execute(
                text(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{password}'")  # test-only value
            )
        self._roles.append(name)

    def terminate_others(self, database: str) -> None:
        """End every backend connected to `database` except the admin's own."""
        with self.admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": database},
            )

    def drop_all(self) -> None:
        """Drop every database and role this session created (nothing on a throwaway server:
        it is deleted whole)."""
        if self.keep_nothing:
            self._drops += [self._dropper.submit(self._drop, name) for name in self._created]
            self._created.clear()
        for drop in self._drops:
            drop.result()
        self._dropper.shutdown()
        if self.keep_nothing:
            with self.admin.connect() as connection:
                for role in self._roles:
                    connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        choice = postgres.choose()
    except (RuntimeError, OSError) as exc:
        pytest.fail(
            f"no PostgreSQL for the database tests, and none could be started: {exc}",
            pytrace=False,
        )
    server = PostgresServer(choice.admin_url, keep_nothing=not postgres.throwaway())
    try:
        with server.admin.connect():
            pass
    except OperationalError as exc:
        pytest.fail(  # no traceback: its frames would hold the URL's password
            f"PostgreSQL is needed at {choice.origin} for the database tests: {exc}",
            pytrace=False,
        )
    yield server
    server.drop_all()  # a throwaway server is deleted whole at session finish: no DROP there


@pytest.fixture(scope="session")
def pg_migrated_url(pg_server: PostgresServer) -> str:
    return pg_server.create_migrated()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "migrated.db"
    upgrade(f"sqlite:///{path}")
    return path


# The app's tables and this project's own state: the shared app cache and filtered lists too, so
# no test sees another's Steam/IGDB answers.
_EMPTIED = [f'"{table.name}"' for table in metadata.sorted_tables] + [
    f'"{table.schema}"."{table.name}"' for table in own_state_metadata.sorted_tables
]


def empty_tables(engine: Engine) -> None:
    """Leave the PostgreSQL database as `TRUNCATE <every table> RESTART IDENTITY` would.

    Only the tables holding rows are truncated: TRUNCATE gives each table new files, 10 to 20 ms
    a table even when it is empty, and most tests leave most tables empty. Sequences go back to
    their start either way."""
    held = ", ".join(f"EXISTS (SELECT FROM {name})" for name in _EMPTIED)
    with engine.begin() as connection:
        has_rows = connection.execute(text(f"SELECT {held}")).one()
        holding = [name for name, full in zip(_EMPTIED, has_rows, strict=True) if full]
        if holding:
            connection.execute(text(f"TRUNCATE {', '.join(holding)} RESTART IDENTITY CASCADE"))
        connection.execute(text("SELECT setval(seqrelid, seqstart, false) FROM pg_sequence"))


def empty_tables_at(url: str) -> None:
    """`empty_tables` on the database at `url`."""
    engine = create_engine(url)
    empty_tables(engine)
    engine.dispose()


def _fresh_url(
    backend: str, tmp_path: Path, sqlite_template: Path, request: pytest.FixtureRequest
) -> str:
    if backend == "sqlite":
        path = tmp_path / "steam-import.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_migrated_url")
    empty_tables_at(url)
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database of each backend (PostgreSQL: the session's, emptied)."""
    return _fresh_url(request.param, tmp_path, sqlite_template, request)


@pytest.fixture(params=BACKENDS)
def private_db_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A migrated database of each backend that the test may alter (PostgreSQL: a new one,
    dropped in the background after the test)."""
    if request.param == "sqlite":
        yield _fresh_url("sqlite", tmp_path, sqlite_template, request)
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    url = server.create_migrated()
    yield url
    server.drop_soon(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url)
    yield engine
    engine.dispose()
