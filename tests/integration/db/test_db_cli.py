"""`steam-import db upgrade` and `steam-import db check`, run as a user would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import text
from typer.testing import CliRunner

from lambdas.cli import app
from lambdas.errors import SchemaDriftError
from lambdas.sql.engine import create_engine

runner = CliRunner()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures structlog on the runner's captured stream, closed after each run."""
    yield
    structlog.reset_defaults()


def test_upgrade_then_check_pass_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgraded = runner.invoke(app, ["db", "upgrade", "--database-url", url], catch_exceptions=False)
    assert upgraded.exit_code == 0, upgraded.output
    checked = runner.invoke(app, ["db", "check", "--database-url", url], catch_exceptions=False)
    assert checked.exit_code == 0, checked.output
    assert "Schema profile: standalone" in checked.output
    assert "stage 3 can import" in checked.output


def test_upgrade_uses_database_url_from_the_environment(
    private_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", private_db_url)
    result = runner.invoke(app, ["db", "upgrade", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["success"] is True


def test_check_exits_non_zero_naming_the_dropped_column(private_db_url: str) -> None:
    engine = create_engine(private_db_url)
    with engine.begin() as connection:
        connection.execute(text('ALTER TABLE "ImportedGame" DROP COLUMN "playtimeMac"'))
    engine.dispose()
    human = runner.invoke(
        app, ["db", "check", "--database-url", private_db_url], catch_exceptions=False
    )
    assert human.exit_code == SchemaDriftError.exit_code != 0
    assert '"ImportedGame"."playtimeMac": column is missing' in human.output
    as_json = runner.invoke(
        app, ["db", "check", "--json", "--database-url", private_db_url], catch_exceptions=False
    )
    assert as_json.exit_code == SchemaDriftError.exit_code
    report = json.loads(as_json.stdout)
    assert report == {
        "success": False,
        "error_code": "SCHEMA_DRIFT",
        "error": "the database does not fit the standalone profile (1 problem); "
        "`steam-import db upgrade` creates or upgrades this tool's schema",
        "profile": "standalone",
        "mode": "library",
        "problems": ['"ImportedGame"."playtimeMac": column is missing'],
        "warnings": [],
    }


def test_check_of_an_empty_database_says_how_to_create_the_schema(tmp_path: Path) -> None:
    """Pit 4: twelve missing tables and no word of `db upgrade`, under a `SCHEMA_DRIFT:` prefix
    instead of the README's `error CODE: message`."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = runner.invoke(app, ["db", "check", "--database-url", url], catch_exceptions=False)
    assert result.exit_code == SchemaDriftError.exit_code
    error = next(line for line in result.stderr.splitlines() if "SCHEMA_DRIFT" in line)
    assert error.startswith("error SCHEMA_DRIFT: the database does not fit the standalone profile")
    assert "`steam-import db upgrade`" in error
    assert '  - table "User" is missing' in result.stderr


def test_check_reports_a_status_setting_the_enum_lacks(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIBRARY_STATUS_PLAYED", "PLAYED")
    result = runner.invoke(app, ["db", "check", "--database-url", db_url], catch_exceptions=False)
    assert result.exit_code != 0
    assert "PLAYED" in result.output and "LIBRARY_STATUS_PLAYED" in result.output
