"""The Typer application every command module registers on."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer._click import exceptions as click_errors  # Typer vendors its own click
from typer.core import TyperGroup, TyperOption

_display_type_rich = TyperOption.display_type_rich


def _display_type_unless_flag(option: TyperOption, ctx: Any) -> str | None:
    """Typer 0.29's help shows a type for every option, `<bool>` beside each flag and beside
    `--help`; a flag takes no value, so none is shown (the help of other options is unchanged)."""
    return None if option.is_flag else _display_type_rich(option, ctx)


TyperOption.display_type_rich = _display_type_unless_flag  # type: ignore[method-assign,assignment]


class _UsageErrorsAsProjectErrors(TyperGroup):
    """The top-level command: a usage error becomes INVALID_ARGUMENT with its exit code, and a
    JSON body when `--json` was given, like every other error; everything else as Typer does."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click_errors.NoArgsIsHelpError as exc:
            exc.show()  # the help text, as Typer shows it for a bare group
            sys.exit(exc.exit_code)
        except click_errors.UsageError as exc:
            from lambdas.cli._output import fail, fit_consoles
            from lambdas.errors import InvalidArgumentError

            fit_consoles()  # the callback that fits them may not have run
            command = exc.ctx.command_path if exc.ctx is not None else "steam-import"
            message = f"{exc.format_message()} (see `{command} --help`)"
            try:
                fail(InvalidArgumentError(message), as_json="--json" in argv)
            except typer.Exit as exit_:
                sys.exit(exit_.exit_code)
        except click_errors.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except typer.Abort:
            sys.stderr.write("Aborted!\n")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_UsageErrorsAsProjectErrors,
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
