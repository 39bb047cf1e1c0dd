"""Recorded Lambda events (`*.json` beside this module) and a stand-in for the Lambda context."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent


def load_event(name: str, **overrides: Any) -> dict[str, Any]:
    """The recorded event `name` (file stem), a fresh copy each time, top-level keys overridden."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return {**event, **overrides}


@dataclass(frozen=True)
class FakeLambdaContext:
    """The attributes of the runtime's context object the handlers read."""

    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    function_name: str = "steam-library-import-test"
