"""The Typer application every command module registers on."""

from __future__ import annotations

from typing import Annotated

import typer

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
