"""The Typer application every command module registers on."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperOption

_display_type_rich = TyperOption.display_type_rich


def _display_type_unless_flag(option: TyperOption, ctx: Any) -> str | None:
    """Typer 0.29's help shows a type for every option, `<bool>` beside each flag and beside
    `--help`; a flag takes no value, so none is shown (the help of other options is unchanged)."""
    return None if option.is_flag else _display_type_rich(option, ctx)


TyperOption.display_type_rich = _display_type_unless_flag  # type: ignore[method-assign,assignment]

app = typer.Typer(
    name="steam-import",
    help="Import a Steam library into the game-tracking app's database, enriched with IGDB.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(requested: bool) -> None:
    if requested:
        from lambdas import __version__

        typer.echo(f"steam-import {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Log every event (DEBUG) and show tracebacks of errors."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Log errors only; no progress display.")
    ] = False,
) -> None:
    """Import a Steam library into the game-tracking app's database, enriched with IGDB.

    Configuration comes from environment variables (or a .env file); see the README.
    """
    from lambdas.cli._output import set_verbosity

    if verbose and quiet:
        raise typer.BadParameter("--verbose and --quiet cannot be used together")
    set_verbosity(verbose=verbose, quiet=quiet)
