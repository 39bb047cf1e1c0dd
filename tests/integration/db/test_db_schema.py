"""Alembic upgrades of the standalone schema (fresh, repeated) and the live-schema check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.integration.databases import PostgresServer
from tests.integration.db.conftest import add_user
from tests.integration.db.helpers import rows
from tests.unit.db.factories import row

from lambdas.database.loader import LoadOptions, import_rows
from lambdas.database.schema import check, head_revision, upgrade
from lambdas.errors import DatabaseUnavailableError
from lambdas.sql.engine import create_engine


def problems_of(url: str, options: LoadOptions | None = None) -> list[str]:
    return check(url, options=options).problems


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no tables at all."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'folder' / 'empty.db'}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create()


def _execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def test_upgrade_creates_the_schema_and_is_repeatable(empty_url: str) -> None:
    assert len(problems_of(empty_url)) >= 8
    assert upgrade(empty_url) == head_revision()
    assert upgrade(empty_url) == head_revision()
    report = check(empty_url)
    assert (report.profile, report.problems, report.warnings) == ("standalone", [], [])


def test_an_empty_database_lists_every_missing_table(empty_url: str) -> None:
    problems = problems_of(empty_url)
    for table in ("User", "ImportedGame", "Game", "LibraryItem", "Genre", "Platform"):
        assert f'table "{table}" is missing' in problems


Drift = Callable[[str], None]


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (
            ['DROP INDEX "ImportedGame_userId_storefront_storefrontGameId_key"'],
            'index "ImportedGame_userId_storefront_storefrontGameId_key" is missing',
        ),
        (
            ['DROP INDEX "Game_slug_key"', 'CREATE INDEX "Game_slug_key" ON "Game" ("slug")'],
            'index "Game_slug_key" is ("slug"), expected UNIQUE ("slug")',
        ),
        (
            ['ALTER TABLE "Game" ADD COLUMN "rating" INTEGER NOT NULL'],
            '"Game"."rating": unexpected NOT NULL column without a default',
        ),
        (
            ['ALTER TABLE "User" DROP COLUMN "steamAvatar"'],
            '"User"."steamAvatar": column is missing',
        ),
    ],
    ids=["unique-index-dropped", "unique-became-plain", "extra-not-null-column", "column-dropped"],
)
def test_check_names_each_difference(
    private_db_url: str, statements: list[str], expected: str
) -> None:
    _execute(private_db_url, *statements)
    problems = problems_of(private_db_url)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            'ALTER TABLE "ImportedGame" ALTER COLUMN "playtime" TYPE TEXT',
            '"ImportedGame"."playtime": type is TEXT, expected INTEGER',
        ),
        (
            'ALTER TABLE "Game" ALTER COLUMN "releaseDate" TYPE TIMESTAMP(6) WITH TIME ZONE',
            "expected TIMESTAMP(3) WITHOUT TIME ZONE",
        ),
        (
            'ALTER TABLE "ImportedGame" ALTER COLUMN "name" DROP NOT NULL',
            '"ImportedGame"."name": column is nullable, expected NOT NULL',
        ),
        (
            "ALTER TYPE \"IgdbMatchStatus\" RENAME VALUE 'IGNORED' TO 'SKIPPED'",
            'enum "IgdbMatchStatus" lacks value(s) IGNORED',
        ),
        (
            'ALTER TABLE "LibraryItem" DROP CONSTRAINT "LibraryItem_gameId_fkey"',
            'foreign key "LibraryItem_gameId_fkey" ("gameId") → "Game" is missing',
        ),
    ],
    ids=["type", "timestamp-precision", "nullability", "enum-value", "foreign-key"],
)
@pytest.mark.parametrize("private_db_url", ["postgresql"], indirect=True)
def test_check_names_postgresql_differences(
    private_db_url: str, statement: str, expected: str
) -> None:
    _execute(private_db_url, statement)
    problems = problems_of(private_db_url)
    assert any(expected in problem for problem in problems), problems


def test_a_plain_index_missing_is_a_warning_not_drift(private_db_url: str) -> None:
    _execute(private_db_url, 'DROP INDEX "ImportedGame_userId_playtime_idx"')
    report = check(private_db_url)
    assert report.problems == []
    assert any("ImportedGame_userId_playtime_idx" in warning for warning in report.warnings)


@pytest.mark.parametrize("private_db_url", ["postgresql"], indirect=True)
def test_renamed_app_statuses_work_once_configured(private_db_url: str) -> None:
    """A later app version renamed its statuses: the defaults are drift, the new names work."""
    _execute(
        private_db_url, "ALTER TYPE \"LibraryItemStatus\" RENAME VALUE 'EXPERIENCED' TO 'PLAYED'"
    )
    assert any("EXPERIENCED" in problem for problem in problems_of(private_db_url))
    options = LoadOptions(status_unplayed="CURIOUS_ABOUT", status_played="PLAYED")
    assert problems_of(private_db_url, options) == []
    engine = create_engine(private_db_url)
    user_id = add_user(engine)
    import_rows(engine, user_id=user_id, rows=[row(1, windows=3)], options=options)
    assert [item["status"] for item in rows(engine, "LibraryItem")] == ["PLAYED"]
    engine.dispose()


@pytest.mark.parametrize("action", [upgrade, check], ids=["upgrade", "check"])
def test_unreachable_server_is_transient(action: Callable[[str], object]) -> None:
    with pytest.raises(DatabaseUnavailableError):
        action("postgresql://postgres:hunter22@127.0.0.1:1/nothing")


def test_a_version_table_left_in_public_moves_to_the_own_schema(pg_server: PostgresServer) -> None:
    url = pg_server.create()
    upgrade(url)
    _execute(url, "ALTER TABLE steam_import.alembic_version SET SCHEMA public")  # as made before
    assert upgrade(url) == head_revision()  # no revision runs again (each would fail if it did)
    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT table_schema FROM information_schema.tables WHERE table_name = :t"),
            {"t": "alembic_version"},
        ).scalars()
        assert list(found) == ["steam_import"]
    engine.dispose()
