"""Stage 1 run directly, as the stage tests run it: one user, a fixed clock, settings overridden."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from lambdas.clients.s3 import LocalStorage
from lambdas.config import Settings
from lambdas.steam.library import SteamImportResult, import_steam_library

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def run_stage1(
    settings: Settings, storage: LocalStorage, account: str, **overrides: Any
) -> SteamImportResult:
    """`import_steam_library` for user-1 (import id run1) with `overrides` on `settings`."""
    return asyncio.run(
        import_steam_library(
            user_id="user-1",
            account=account,
            settings=Settings(**{**settings.model_dump(), **overrides}),
            storage=storage,
            now=NOW,
            import_id="run1",
        )
    )
