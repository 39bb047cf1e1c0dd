"""The `steam-import` command line: parses arguments, calls one service, prints through Rich.

Each module registers its commands on the one Typer app; this package imports them all.
"""

from __future__ import annotations

from lambdas.cli import db, demo, review, sandbox, stages
from lambdas.cli._app import app

__all__ = ["app", "db", "demo", "review", "sandbox", "stages"]
