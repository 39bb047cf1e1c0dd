"""The `steam-import` command line: parses arguments, calls one service, prints through Rich."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="steam-import",
    help="Import a Steam library into the game-tracking app's database, enriched with IGDB.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
