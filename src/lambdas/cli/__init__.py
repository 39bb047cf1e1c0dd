"""The `steam-import` command line: parses arguments, calls one service, prints through Rich.

Each module registers its commands on the one Typer app. `app` imports them all on first use, so
that `lambdas.cli._fast` (`--version`, `--help`) is imported without Typer and the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdas.cli._app import app

__all__ = ["app"]

_COMMAND_MODULES = ("db", "demo", "review", "sandbox", "stages")


def __getattr__(name: str) -> Any:
    if name == "app":
        for module in _COMMAND_MODULES:  # each registers its commands on the app
            importlib.import_module(f"lambdas.cli.{module}")
        from lambdas.cli._app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
