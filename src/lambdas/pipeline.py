"""Runs stage 1 → 2 → 3 in one process, passing exactly what Step Functions passes between them.

Each stage receives the previous stage's whole response as its event, as the state machine does;
a response with `success: false` (or a transient error) stops the run at that stage with its
error. A later stage can be resumed from a stored location.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from lambdas.config import Settings
from lambdas.errors import PipelineError, SteamAccountChangedError
from lambdas.logging import bound_run
from lambdas.models.events import Stage, StageResponse
from lambdas.models.steam import parse_steam_account
from lambdas.stages import STAGES, StageContext, StageSpec, skipped_response

__all__ = [
    "PipelineResult",
    "Stage",
    "StageRun",
    "import_user_library",
    "prepare_database",
    "run_pipeline",
]

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class StageRun:
    stage: Stage
    response: StageResponse
    seconds: float
    transient: bool = False
    #: Not run: the previous stage found nothing to do (its response said `unchanged`).
    skipped: bool = False


@dataclass(slots=True)
class PipelineResult:
    """Every stage that ran, in order; the last one failed when `success` is False."""

    user_id: str
    import_id: str
    runs: list[StageRun] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return bool(self.runs) and all(run.response.success for run in self.runs)

    @property
    def unchanged(self) -> bool:
        """Nothing differed from the last committed import: no row was sent to the database."""
        load = self.response(Stage.LOAD)
        return self.success and load is not None and bool(getattr(load, "unchanged", False))

    @property
    def failed(self) -> StageRun | None:
        return next((run for run in self.runs if not run.response.success), None)

    def response(self, stage: Stage) -> Any:
        return next((run.response for run in self.runs if run.stage is stage), None)

    def as_dict(self) -> dict[str, Any]:
        failed = self.failed
        return {
            "success": self.success,
            "user_id": self.user_id,
            "import_id": self.import_id,
            "unchanged": self.unchanged,
            "failed_stage": failed.stage.value if failed else None,
            "error_code": failed.response.error_code if failed else None,
            "error": failed.response.error if failed else None,
            "stages": {
                run.stage.value: {
                    **run.response.model_dump(mode="json"),
                    "seconds": round(run.seconds, 3),
                    "skipped": run.skipped,
                }
                for run in self.runs
            },
        }


async def run_pipeline(
    *,
    first_event: dict[str, Any],
    context: StageContext,
    import_id: str,
    from_stage: Stage = Stage.STEAM,
    until: Stage = Stage.LOAD,
    on_stage: Callable[[Stage], None] | None = None,
    announce: bool = True,
) -> PipelineResult:
    """Run the stages from `from_stage` on; `first_event` is that stage's event.

    From `steam`: `{user_id, steam_id64}`; from `enrich`: `{user_id, s3_location}`; from `load`:
    `{user_id, s3_enriched_location}` (the same events the Lambda handlers take). A stage whose
    event says `unchanged` (the previous stage found nothing to do) is skipped, as the state
    machine's Choice skips it: its answer is `skipped_response`. A caller that runs one import
    in parts passes `announce=False` and calls `announce_finished` once the import has ended,
    so the log says `pipeline.finished` once per import, not once per part.
    """
    user_id = str(first_event.get("user_id", ""))
    result = PipelineResult(user_id=user_id, import_id=import_id)
    payload: dict[str, Any] = {**first_event, "import_id": import_id}
    order = [spec.stage for spec in STAGES]
    with bound_run(import_id=import_id, user_id=user_id):
        for spec in STAGES[order.index(from_stage) : order.index(until) + 1]:
            stage = spec.stage
            if payload.get("unchanged") is True:
                skipped = skipped_response(stage, payload)
                result.runs.append(StageRun(stage, skipped, 0.0, skipped=True))
                payload = skipped.model_dump(mode="json")
                continue
            if on_stage is not None:
                on_stage(stage)
            run = await _run_stage(spec, payload, context, import_id=import_id)
            result.runs.append(run)
            if not run.response.success:
                log.warning(
                    "pipeline.stopped",
                    stage=stage.value,
                    error_code=run.response.error_code,
                    transient=run.transient,
                )
                break
            payload = run.response.model_dump(mode="json")
    if announce:
        announce_finished(result)
    return result


def announce_finished(result: PipelineResult) -> None:
    """The import's one `pipeline.finished` line."""
    with bound_run(import_id=result.import_id, user_id=result.user_id):
        log.info("pipeline.finished", success=result.success, stages=len(result.runs))


async def _run_stage(
    spec: StageSpec[Any, Any], payload: dict[str, Any], context: StageContext, *, import_id: str
) -> StageRun:
    """One stage as Step Functions would run it; its errors become its failure response."""
    started = time.perf_counter()
    user_id = payload.get("user_id") if isinstance(payload.get("user_id"), str) else None
    try:
        response: StageResponse = await spec.run(payload, context, import_id=import_id)
    except PipelineError as exc:
        failure = spec.response_model.failure(exc, user_id=user_id, import_id=import_id)
        return StageRun(spec.stage, failure, time.perf_counter() - started, transient=exc.transient)
    return StageRun(spec.stage, response, time.perf_counter() - started)


def prepare_database(settings: Settings, context: StageContext) -> None:
    """Migrate the embedded SQLite default on first use; an explicit DATABASE_URL is the app's,
    so it is only checked (by stage 3), never migrated behind the operator's back."""
    if settings.database_url is None:
        from lambdas.database.schema import upgrade

        upgrade(settings.resolved_database_url)


async def import_user_library(
    *,
    context: StageContext,
    user_id: str,
    steam_account: str,
    import_id: str,
    create_user: bool = False,
    refresh_metadata: bool = False,
    relink: bool = False,
    on_stage: Callable[[Stage], None] | None = None,
) -> PipelineResult:
    """Check (or create) the user, run the three stages, and record the Steam account on success
    so that `sync` re-imports it later.

    `create_user` is for this tool's standalone schema only (on the app's database users belong
    to the app: INVALID_ARGUMENT); a user it created is removed again when the import fails.

    A user linked to another Steam account is refused (STEAM_ACCOUNT_CHANGED) before anything
    is fetched when the account is given as an id, after stage 1 resolved it when it is a custom
    URL name, and before anything is written in either case, unless `relink` replaces the link.
    """
    from lambdas.database.users import ensure_user, forget_user, refuse_creation_on_app_schema

    engine = context.database()
    if create_user:
        refuse_creation_on_app_schema(engine)
    created = ensure_user(engine, user_id=user_id, create=create_user)
    try:
        result = await _import_checked_user(
            context=context,
            user_id=user_id,
            steam_account=steam_account,
            import_id=import_id,
            refresh_metadata=refresh_metadata,
            relink=relink,
            on_stage=on_stage,
        )
    except BaseException:
        if created:
            forget_user(engine, user_id=user_id)
        raise
    if created and not result.success:
        forget_user(engine, user_id=user_id)  # nothing was imported: no user left behind
    announce_finished(result)
    return result


async def _import_checked_user(
    *,
    context: StageContext,
    user_id: str,
    steam_account: str,
    import_id: str,
    refresh_metadata: bool,
    relink: bool,
    on_stage: Callable[[Stage], None] | None,
) -> PipelineResult:
    from lambdas.database.users import connect_steam, linked_steam_id

    engine = context.database()
    linked = linked_steam_id(engine, user_id=user_id)
    try:
        given = parse_steam_account(steam_account).steam_id64  # None for a custom URL name
    except PipelineError:
        given = None  # stage 1 reports what is wrong with it
    if linked and given is not None and str(given) != linked and not relink:
        # Known before fetching anything: no request, no stored CSV (a custom URL name is
        # only known once stage 1 resolved it, below).
        result = PipelineResult(user_id=user_id, import_id=import_id)
        result.runs.append(_account_changed(user_id, import_id, linked, str(given), seconds=0.0))
        return result
    first = {"user_id": user_id, "steam_id64": steam_account, "refresh_metadata": refresh_metadata}
    result = await run_pipeline(
        first_event=first,
        context=context,
        import_id=import_id,
        until=Stage.STEAM,
        on_stage=on_stage,
        announce=False,
    )
    steam = result.response(Stage.STEAM)
    if not result.success or steam is None:
        return result
    if linked and steam.steam_id64 != linked and not relink:
        seconds = result.runs[-1].seconds
        result.runs[-1] = _account_changed(user_id, import_id, linked, steam.steam_id64, seconds)
        return result
    rest = await run_pipeline(
        first_event=steam.model_dump(mode="json"),
        context=context,
        import_id=import_id,
        from_stage=Stage.ENRICH,
        on_stage=on_stage,
        announce=False,
    )
    result.runs.extend(rest.runs)
    if result.success and steam.steam_id64:
        connect_steam(engine, user_id=user_id, steam_id64=steam.steam_id64)
    return result


def _account_changed(
    user_id: str, import_id: str, linked: str, given: str | None, seconds: float
) -> StageRun:
    """Stage 1's refusal of an account other than the one the user is linked to."""
    refusal = SteamAccountChangedError(
        f"user {user_id} is linked to Steam account {linked}, not {given}; "
        "nothing was imported (pass --relink to replace the link)"
    )
    log.warning("pipeline.steam_account_changed", linked=linked, fetched=given)
    response = STAGES[0].response_model.failure(refusal, user_id=user_id, import_id=import_id)
    return StageRun(stage=Stage.STEAM, response=response, seconds=seconds)
