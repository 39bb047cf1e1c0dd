"""`steam-import db …`: create, upgrade and check the app's database schema."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from lambdas.cli._app import app
from lambdas.cli._output import JsonOption, call, emit, load_settings, stderr, stdout
from lambdas.config import Settings

db_app = typer.Typer(
    name="db",
    help="Create, upgrade and check the app's database schema.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Database URL; default DATABASE_URL, else the local SQLite file.",
        show_default=False,
    ),
]


def _database_settings(database_url: str | None) -> Settings:
    from pydantic import SecretStr

    if database_url:
        return load_settings(database_url=SecretStr(database_url))
    return load_settings()


@db_app.command("upgrade")
def db_upgrade_command(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Create the schema, or upgrade it (an app database Prisma made is adopted in place)."""
    from lambdas.database.schema import upgrade

    url = _database_settings(database_url).resolved_database_url
    revision = call(lambda: upgrade(url), as_json=as_json)
    emit(
        {"success": True, "revision": revision},
        as_json=as_json,
        human=lambda: stdout.print(f"Database schema at revision [bold]{revision}[/]"),
    )


@db_app.command("check")
def db_check_command(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Compare the live schema with the models and the configured LibraryItem statuses;
    exits non-zero, listing every difference, when they disagree."""
    from lambdas.database.schema import check
    from lambdas.errors import SchemaDriftError

    settings = _database_settings(database_url)
    statuses = (settings.library_status_unplayed, settings.library_status_played)
    problems = call(
        lambda: check(settings.resolved_database_url, library_statuses=statuses),
        as_json=as_json,
    )
    if as_json:
        code = SchemaDriftError.code if problems else None
        stdout.print_json(
            json.dumps({"success": not problems, "error_code": code, "problems": problems})
        )
    elif problems:
        stderr.print(f"[bold red]{SchemaDriftError.code}[/]: the schema differs from the models:")
        for problem in problems:
            stderr.print(f"  - {problem}", highlight=False, markup=False)
    else:
        stdout.print("Database schema matches the models.")
    if problems:
        raise typer.Exit(SchemaDriftError.exit_code)
