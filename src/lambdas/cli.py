"""The `steam-import` command line: parses arguments, calls one service, prints through Rich."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from lambdas.config import Settings, get_settings
from lambdas.errors import ConfigurationError, InvalidSteamIdError, PipelineError
from lambdas.logging import configure_logging, register_secrets
from lambdas.models.steam import parse_steam_account

app = typer.Typer(
    name="steam-import",
    help="Import a Steam library into the game-tracking app's database, enriched with IGDB.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

stdout = Console()
stderr = Console(stderr=True)
T = TypeVar("T")

UserIdOption = Annotated[
    str, typer.Option("--user-id", "-u", help="The app's User.id the games belong to.")
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout, for scripts.")
]


def _steam_account(value: str) -> str:
    """Typer parser: fail at parse time, with a usage error, on text no Steam id can be."""
    try:
        parse_steam_account(value)
    except InvalidSteamIdError as exc:
        raise typer.BadParameter(exc.message) from None
    return value


SteamOption = Annotated[
    str,
    typer.Option(
        "--steam",
        "-s",
        help="SteamID64, STEAM_X:Y:Z, [U:1:N], a steamcommunity.com profile URL, "
        "or a custom URL name.",
        callback=_steam_account,
    ),
]


def load_settings(**overrides: Any) -> Settings:
    """Settings for this run (environment, .env, then explicit overrides); logging configured."""
    try:
        settings = get_settings()
    except ConfigurationError as exc:
        fail(exc, as_json=False)
    if overrides:
        settings = settings.model_copy(update=overrides)
    configure_logging(level=settings.log_level, log_format=settings.log_format)
    register_secrets(settings.secret_values())
    return settings


def fail(error: PipelineError, *, as_json: bool) -> NoReturn:
    """Report a pipeline error (code and message, no traceback) and exit with its code."""
    if as_json:
        stdout.print_json(
            json.dumps({"success": False, "error_code": error.code, "error": error.message})
        )
    else:
        stderr.print(f"[bold red]error[/] [red]{error.code}[/]: {error.message}", highlight=False)
    raise typer.Exit(error.exit_code)


def run_async(coroutine: Coroutine[Any, Any, T], *, as_json: bool) -> T:
    """Run one service call; pipeline errors end the process with their exit code."""
    try:
        return asyncio.run(coroutine)
    except PipelineError as exc:
        fail(exc, as_json=as_json)


def call(function: Callable[[], T], *, as_json: bool) -> T:
    """Run one synchronous service call with the same error reporting."""
    try:
        return function()
    except PipelineError as exc:
        fail(exc, as_json=as_json)


def emit(payload: dict[str, Any], *, as_json: bool, human: Callable[[], None]) -> None:
    """Print the result: JSON for scripts, or the human rendering."""
    if as_json:
        stdout.print_json(json.dumps(payload, default=str))
    else:
        human()


def utc_now() -> datetime:
    return datetime.now(UTC)


def is_terminal() -> bool:
    return sys.stdout.isatty()


@app.callback()
def main() -> None:
    """Import a Steam library into the game-tracking app's database, enriched with IGDB.

    Configuration comes from environment variables (or a .env file); see the README.
    """


@app.command("steam")
def steam_command(
    user_id: UserIdOption,
    steam: SteamOption,
    as_json: JsonOption = False,
) -> None:
    """Stage 1: fetch a Steam library and store it as a raw CSV; prints its location."""
    from lambdas.clients.s3 import storage_from_settings
    from lambdas.handlers._runtime import new_import_id
    from lambdas.services.steam_import import import_steam_library

    settings = load_settings()
    result = run_async(
        import_steam_library(
            user_id=user_id,
            account=steam,
            settings=settings,
            storage=call(lambda: storage_from_settings(settings), as_json=as_json),
            now=utc_now(),
            import_id=new_import_id(),
        ),
        as_json=as_json,
    )
    emit(
        {
            "success": True,
            "user_id": user_id,
            "s3_location": result.location,
            "game_count": result.game_count,
            "steam_id64": str(result.steam_id64),
        },
        as_json=as_json,
        human=lambda: stdout.print(
            f"Stored [bold]{result.game_count}[/] games of "
            f"{result.persona_name or result.steam_id64} at {result.location}",
            highlight=False,
        ),
    )
