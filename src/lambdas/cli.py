"""The `steam-import` command line: parses arguments, calls one service, prints through Rich."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
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
        settings = Settings(**{**settings.model_dump(), **overrides})  # validated, unlike a copy
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


LocationOption = Annotated[
    str,
    typer.Option(
        "--location", "-l", help="A stored CSV: s3://bucket/key, file:///path or a local path."
    ),
]


@contextmanager
def stage_progress(description: str, *, enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A Rich progress display on a terminal; silent when stdout is not a TTY or for --json."""
    if not enabled:
        yield lambda step, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stdout,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def report(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"{description}: {step}", completed=done, total=total)

        yield report


@app.command("enrich")
def enrich_command(
    user_id: UserIdOption,
    location: LocationOption,
    as_json: JsonOption = False,
) -> None:
    """Stage 2: classify the apps of a raw CSV, match games to IGDB, store the enriched CSV."""
    from lambdas.clients.s3 import storage_from_settings
    from lambdas.services.enrichment import enrich_library

    settings = load_settings()
    storage = call(lambda: storage_from_settings(settings), as_json=as_json)
    with stage_progress("Enriching", enabled=is_terminal() and not as_json) as progress:
        result = run_async(
            enrich_library(
                user_id=user_id,
                location=location,
                settings=settings,
                storage=storage,
                now=utc_now(),
                progress=progress,
            ),
            as_json=as_json,
        )
    stats = result.stats
    emit(
        {
            "success": True,
            "user_id": user_id,
            "s3_enriched_location": result.location,
            "stats": stats.model_dump(),
        },
        as_json=as_json,
        human=lambda: stdout.print(
            f"{stats.processed} apps: [green]{stats.matched} matched[/] "
            f"({stats.matched_by_title} by title), [yellow]{stats.unmatched} need review[/], "
            f"{stats.filtered} filtered as non-games; stored at {result.location}",
            highlight=False,
        ),
    )


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
    from lambdas.services.schema import upgrade

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
    from lambdas.errors import SchemaDriftError
    from lambdas.services.schema import check

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


@app.command("sandbox")
def sandbox_command(
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port to listen on (0 = any free port).")
    ] = 8765,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated world.")] = 42,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    latency_ms: Annotated[
        float | None, typer.Option("--latency-ms", help="Added latency, every service.")
    ] = None,
    error_rate: Annotated[
        float | None, typer.Option("--error-rate", help="Share of requests answered 5xx.")
    ] = None,
    token_expires_in: Annotated[
        int | None, typer.Option("--token-expires-in", help="Twitch token lifetime (s).")
    ] = None,
    rate_limit: Annotated[
        bool, typer.Option("--rate-limit/--no-rate-limit", help="Steam and IGDB rate limits.")
    ] = True,
    pagination_rows: Annotated[
        int,
        typer.Option("--pagination-rows", help="Give one app this many IGDB rows (0 = off)."),
    ] = 0,
    knob: Annotated[
        list[str] | None,
        typer.Option(
            "--knob", "-k", help="service.knob=value (repeatable), e.g. igdb.latency_ms=100."
        ),
    ] = None,
) -> None:
    """Run the local Steam / Twitch / IGDB emulator until Ctrl-C; prints URLs, users, exports."""
    from lambdas.sandbox import SandboxError, serve_forever

    try:
        serve_forever(
            port=port,
            seed=seed,
            host=host,
            knob_assignments=knob or (),
            latency_ms=latency_ms,
            error_rate=error_rate,
            rate_limit=rate_limit,
            expires_in=token_expires_in,
            pagination_rows=pagination_rows,
            on_ready=lambda text: stdout.print(text, highlight=False, markup=False, soft_wrap=True),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    except SandboxError as exc:
        stderr.print(f"[bold red]error[/]: {exc}", highlight=False)
        raise typer.Exit(1) from None
