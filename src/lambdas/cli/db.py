"""`steam-import db …`: this tool's schema (create, upgrade, own-state) and `db check` of any
database stage 3 writes into, the app's included."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from lambdas.cli._app import app
from lambdas.cli._output import JsonOption, call, emit, load_settings, stderr, stdout
from lambdas.config import Settings

db_app = typer.Typer(
    name="db",
    help="Create or upgrade this tool's schema; check any database stage 3 writes into.",
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
    """Create or upgrade this project's standalone schema; refused on the app's own database."""
    from lambdas.database.schema import upgrade

    url = _database_settings(database_url).resolved_database_url
    revision = call(lambda: upgrade(url), as_json=as_json)
    emit(
        {"success": True, "revision": revision},
        as_json=as_json,
        human=lambda: stdout.print(f"Database schema at revision [bold]{revision}[/]"),
    )


@db_app.command("own-state")
def db_own_state_command(
    database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Create this project's own tables (schema steam_import) beside the app's, never touching
    the app's tables; on a standalone database the same as `db upgrade`."""
    from lambdas.database.schema import prepare_own_state

    url = _database_settings(database_url).resolved_database_url
    held_by = call(lambda: prepare_own_state(url), as_json=as_json)
    emit(
        {"success": True, "own_state": held_by},
        as_json=as_json,
        human=lambda: stdout.print(f"This project's own tables are ready ([bold]{held_by}[/])"),
    )


@db_app.command("check")
def db_check_command(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Say which schema profile the database has, the import mode, and every difference or
    warning; exits non-zero when stage 3 could not write into it."""
    from lambdas.database.loader import LoadOptions
    from lambdas.database.schema import check
    from lambdas.errors import SchemaDriftError

    settings = _database_settings(database_url)
    options = LoadOptions.from_settings(settings)
    report = call(
        lambda: check(settings.resolved_database_url, options=options, settings=settings),
        as_json=as_json,
    )
    problems = report.problems
    message = _drift_message(report.profile, problems) if problems else None
    if as_json:
        code = SchemaDriftError.code if problems else None
        body = {
            "success": not problems,
            "error_code": code,
            "error": message,
            "profile": report.profile,
            "mode": report.mode,
            "problems": problems,
            "warnings": report.warnings,
        }
        stdout.print_json(json.dumps(body))
    else:
        stdout.print(f"Schema profile: [bold]{report.profile}[/]; import mode: {report.mode}")
        for warning in report.warnings:
            stdout.print(f"  warning: {warning}", highlight=False, markup=False, soft_wrap=True)
        if problems:
            stderr.print(f"[bold red]error[/] [red]{SchemaDriftError.code}[/]: {message}:")
            for problem in problems:
                stderr.print(f"  - {problem}", highlight=False, markup=False)
        else:
            stdout.print("The database fits; stage 3 can import into it.")
    if problems:
        raise typer.Exit(SchemaDriftError.exit_code)


def _drift_message(profile: str, problems: list[str]) -> str:
    """The error line of `db check`, in the README's `error CODE: message` form; on this tool's
    own (standalone) schema, missing tables are what `db upgrade` creates, so it says so."""
    count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
    text = f"the database does not fit the {profile} profile ({count})"
    if profile == "standalone" and any(problem.endswith(" is missing") for problem in problems):
        text += "; `steam-import db upgrade` creates or upgrades this tool's schema"
    return text
