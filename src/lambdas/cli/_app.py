"""The Typer application every command module registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="steam-import",
    help="Import a Steam library into the game-tracking app's database, enriched with IGDB.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """Import a Steam library into the game-tracking app's database, enriched with IGDB.

    Configuration comes from environment variables (or a .env file); see the README.
    """
