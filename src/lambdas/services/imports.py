"""A whole import for one user, as the command line runs it: user check, pipeline, connection."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from lambdas.config import Settings
from lambdas.pipeline import PipelineResult, Stage, run_pipeline
from lambdas.services.stages import StageContext
from lambdas.services.users import connect_steam, ensure_user

log = structlog.get_logger()


def prepare_database(settings: Settings, context: StageContext) -> None:
    """Migrate the embedded SQLite default on first use; an explicit DATABASE_URL is the app's,
    so it is only checked (by stage 3), never migrated behind the operator's back."""
    if settings.database_url is None:
        from lambdas.services.schema import upgrade

        upgrade(settings.resolved_database_url)


async def import_user_library(
    *,
    context: StageContext,
    user_id: str,
    steam_account: str,
    import_id: str,
    create_user: bool = False,
    refresh_metadata: bool = False,
    on_stage: Callable[[Stage], None] | None = None,
) -> PipelineResult:
    """Check (or create) the user, run the three stages, and record the Steam account on success
    so that `sync` re-imports it later."""
    engine = context.database()
    ensure_user(engine, user_id=user_id, create=create_user)
    result = await run_pipeline(
        first_event={
            "user_id": user_id,
            "steam_id64": steam_account,
            "refresh_metadata": refresh_metadata,
        },
        context=context,
        import_id=import_id,
        on_stage=on_stage,
    )
    steam = result.response(Stage.STEAM)
    if result.success and steam is not None and steam.steam_id64:
        connect_steam(engine, user_id=user_id, steam_id64=steam.steam_id64)
    return result
