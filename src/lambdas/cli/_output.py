"""What every command shares: options, settings, Rich output, errors as exit codes, progress."""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from collections.abc import Callable, Coroutine, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from lambdas.config import Settings, get_settings
from lambdas.errors import ConfigurationError, PipelineError
from lambdas.logging import configure_logging, redact_text, register_secrets
from lambdas.models.steam import parse_steam_account
from lambdas.pipeline import Stage

stdout = Console()
stderr = Console(stderr=True)
T = TypeVar("T")


@dataclass(slots=True)
class Verbosity:
    """What `--verbose` / `--quiet` asked for (neither: the defaults below)."""

    verbose: bool = False
    quiet: bool = False

    def log_level(self, configured: str, *, explicit: bool) -> str:
        """The flags win; else LOG_LEVEL when set; else WARNING for a person at a terminal."""
        if self.verbose:
            return "DEBUG"
        if self.quiet:
            return "ERROR"
        if not explicit and sys.stderr.isatty():
            return "WARNING"  # a person at a terminal reads the summary; scripts get every event
        return configured


verbosity = Verbosity()


def set_verbosity(*, verbose: bool, quiet: bool) -> None:
    """Called once by the app's callback, before any command runs."""
    verbosity.verbose, verbosity.quiet = verbose, quiet
    fit_consoles()


#: The width of output that is not a terminal: a pipe or a file has no screen to fit, so Rich's
#: default of 80 columns would break lines and table cells that were never too long.
UNWRAPPED_WIDTH = 10_000


def fit_consoles() -> None:
    """Wrap to the terminal's width on a terminal; elsewhere (a pipe, a file, a test's capture)
    keep each line whole, whatever COLUMNS says (a shell exports it for its terminal, not for
    the pipe a line goes into)."""
    for console, stream in ((stdout, sys.stdout), (stderr, sys.stderr)):
        if stream.isatty():
            continue
        console.soft_wrap = True
        console.width = UNWRAPPED_WIDTH


UserIdOption = Annotated[
    str, typer.Option("--user-id", "-u", help="The app's User.id the games belong to.")
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout, for scripts.")
]


def steam_account(value: str, *, as_json: bool) -> str:
    """Refuse, before any request, text no Steam id can be: INVALID_STEAM_ID with its exit code
    (and a JSON body under --json), like every other bad input, rather than a usage box."""
    call(lambda: parse_steam_account(value), as_json=as_json)
    return value


SteamOption = Annotated[
    str,
    typer.Option(
        "--steam",
        "-s",
        help="SteamID64, STEAM_X:Y:Z, [U:1:N], a steamcommunity.com profile URL, "
        "or a custom URL name.",
    ),
]


def load_settings(**overrides: Any) -> Settings:
    """Settings for this run (environment, .env, then explicit overrides); logging configured."""
    try:
        settings = get_settings()
    except ConfigurationError as exc:
        fail(exc, as_json=False)
    level = verbosity.log_level(
        settings.log_level, explicit="log_level" in settings.model_fields_set
    )
    if overrides:
        settings = Settings(**{**settings.model_dump(), **overrides})  # validated, unlike a copy
    configure_logging(level=level, log_format=settings.log_format)
    if not verbosity.verbose and sys.stderr.isatty():
        _drop_events_the_cli_reports()
    register_secrets(settings.secret_values())
    return settings


#: Log events whose news the command prints itself: on a terminal, said once, by the command.
REPORTED_BY_THE_CLI = frozenset({"pipeline.stopped"})


def _drop_events_the_cli_reports() -> None:
    import structlog

    def drop(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
        if event.get("event") in REPORTED_BY_THE_CLI:
            raise structlog.DropEvent
        return event

    structlog.configure(processors=[drop, *structlog.get_config()["processors"]])


def require_existing_database(settings: Settings) -> None:
    """Refuse, naming the file, to read a local SQLite database that does not exist yet: opening
    it would create an empty file and report every table missing."""
    if settings.database_url is not None:
        return
    path = (settings.data_dir / "steam-import.db").resolve()
    if not path.exists():
        raise ConfigurationError(
            f"no local database at {path} yet: `steam-import demo`, or `steam-import run "
            "--user-id U --steam S --create-user`, creates it (DATA_DIR chooses the folder, "
            "DATABASE_URL another database)"
        )


def fail(error: PipelineError, *, as_json: bool) -> NoReturn:
    """Report a pipeline error (code and message; the traceback with --verbose) and exit with
    its code. The traceback, causes included, is redacted like every log line."""
    if verbosity.verbose:
        text = "".join(traceback.format_exception(error))
        stderr.print(redact_text(text), highlight=False, markup=False, end="")
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


def sandbox_module() -> ModuleType:
    """The emulator package, imported on demand: it is a development tool, not the product."""
    try:
        import steam_sandbox
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            f"this command needs the emulator (steam_sandbox) and its 'sandbox' extra "
            f"({exc.name} is missing): pip install 'steam-library-import[sandbox]', "
            "or ./run from a checkout"
        ) from exc
    return steam_sandbox


def utc_now() -> datetime:
    return datetime.now(UTC)


def is_terminal() -> bool:
    """Whether to draw progress: stdout is a terminal and --quiet was not given."""
    return sys.stdout.isatty() and not verbosity.quiet


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
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[steps]}"),  # "1/3" once known; never "0/?" before
        TimeElapsedColumn(),
        console=stdout,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None, steps="")

        def report(step: str, done: int, total: int) -> None:
            bar.update(
                task,
                description=f"{description}: {step}",
                completed=done,
                total=total,
                steps=f"{done}/{total}",
            )

        yield report


def exit_code_of(code: str | None, *, transient: bool) -> int:
    """The documented exit code of an error code (errors.py), 1 when unknown."""
    from lambdas.errors import all_error_types

    for error_type in all_error_types():
        if error_type.code == code:
            return error_type.exit_code
    return 75 if transient else 1


def stage_step(stage: Stage) -> tuple[str, int, int]:
    """A progress step for the stage about to run: its name, how many are done, of how many."""
    stages = list(Stage)
    return stage.value, stages.index(stage), len(stages)
