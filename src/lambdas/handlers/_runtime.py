"""What every handler shares: settings and logging once per container, the invocation's log
context, and, for the three stages, the permanent/transient split of errors."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace
from functools import cache
from typing import Any

import structlog

from lambdas.config import Settings, get_settings
from lambdas.errors import PermanentError, TransientError
from lambdas.handlers._metrics import publish_stage_metrics
from lambdas.logging import bind_invocation, configure_logging, register_secrets
from lambdas.models.events import LambdaContext, StageResponse
from lambdas.stages import StageContext, StageSpec

log = structlog.get_logger()

#: Seconds kept back from a Lambda's remaining time for reporting after the stage's budget ends.
LAMBDA_MARGIN_SECONDS = 15.0


@cache
def _container_context() -> StageContext:
    """Settings, logging and storage for this container; secrets are fetched here, once."""
    settings = get_settings()
    configure_logging(level=settings.log_level, log_format=settings.log_format or "json")
    register_secrets(settings.secret_values())
    return StageContext.from_settings(settings)


def container_settings() -> Settings:
    """This container's settings (for handlers outside the three stages)."""
    return _invocation_context().settings


def _invocation_context() -> StageContext:
    """The container's context with the secrets as of now (Powertools' cache, `max_age`)."""
    context = _container_context()
    settings = get_settings()
    if settings is context.settings:
        return context
    register_secrets(settings.secret_values())  # a rotated value is redacted too
    return replace(context, settings=settings)


def stage_context(settings: Settings | None) -> StageContext:
    """The container's stage context, or one built from injected settings (tests, tools)."""
    if settings is None:
        return _invocation_context()
    register_secrets(settings.secret_values())
    return StageContext.from_settings(settings)


def start_invocation(context: LambdaContext, **fields: Any) -> None:
    """Begin an invocation's log context: request id, function name, cold start, `fields`."""
    bind_invocation(
        request_id=context.aws_request_id, function_name=context.function_name, **fields
    )


def new_import_id() -> str:
    return uuid.uuid4().hex


def run_stage(
    spec: StageSpec[Any, Any],
    raw_event: object,
    context: LambdaContext,
    *,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Parse → work → serialize. Permanent errors become `success: false`; transient ones raise."""
    raw = raw_event if isinstance(raw_event, dict) else {}
    user_id = raw.get("user_id") if isinstance(raw.get("user_id"), str) else None
    import_id = raw.get("import_id") if isinstance(raw.get("import_id"), str) else None
    import_id = import_id or new_import_id()
    stage = spec.stage.handler_name
    start_invocation(context, stage=stage, user_id=user_id, import_id=import_id)
    started = time.perf_counter()
    try:
        work_context = _within_lambda_time(stage_context(settings), context)
        response = asyncio.run(spec.run(raw_event, work_context, import_id=import_id))
    except PermanentError as exc:
        log.warning("stage.failed", error_code=exc.code, error=exc.message)
        failure = spec.response_model.failure(exc, user_id=user_id, import_id=import_id)
        publish_stage_metrics(stage=stage, seconds=time.perf_counter() - started, response=failure)
        return _dumped(failure)
    except TransientError as exc:
        log.error(  # noqa: TRY400 - the code and message say it; no traceback wanted
            "stage.transient_failure", error_code=exc.code, error=exc.message
        )
        publish_stage_metrics(
            stage=stage, seconds=time.perf_counter() - started, response=None, error_code=exc.code
        )
        raise
    seconds = time.perf_counter() - started
    publish_stage_metrics(stage=stage, seconds=seconds, response=response)
    log.debug("handler.finished", duration_s=round(seconds, 3))
    return _dumped(response)


def _within_lambda_time(work_context: StageContext, context: LambdaContext) -> StageContext:
    """The stage's budget also ends LAMBDA_MARGIN_SECONDS before Lambda would stop it."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return work_context
    left = float(remaining()) / 1000 - LAMBDA_MARGIN_SECONDS
    return replace(work_context, time_left=max(left, 1.0))


def _dumped(response: StageResponse) -> dict[str, Any]:
    dumped: dict[str, Any] = response.model_dump(mode="json")
    return dumped
