"""What every stage handler shares: settings and logging once per container, event parsing,
run context on every log line, and the permanent/transient split of errors."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import replace
from functools import cache
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel, ValidationError

from lambdas.config import Settings, get_settings
from lambdas.errors import InvalidEventError, PermanentError, TransientError
from lambdas.handlers._metrics import publish_stage_metrics
from lambdas.logging import bind_invocation, configure_logging, register_secrets
from lambdas.models.events import _Event, _Response
from lambdas.stages import StageContext

log = structlog.get_logger()

E = TypeVar("E", bound=_Event)


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


def new_import_id() -> str:
    return uuid.uuid4().hex


def run_stage(
    raw_event: Any,
    context: Any,
    *,
    stage: str,
    event_model: type[E],
    response_model: type[_Response],
    work: Callable[[E, StageContext], Coroutine[Any, Any, BaseModel]],
) -> dict[str, Any]:
    """Parse → work → serialize. Permanent errors become `success: false`; transient ones raise."""
    raw = raw_event if isinstance(raw_event, dict) else {}
    user_id = raw.get("user_id") if isinstance(raw.get("user_id"), str) else None
    import_id = raw.get("import_id") if isinstance(raw.get("import_id"), str) else None
    import_id = import_id or new_import_id()
    bind_invocation(context, stage=stage, user_id=user_id, import_id=import_id)
    started = time.perf_counter()
    try:
        context = _invocation_context()
        try:
            event = event_model.model_validate(raw_event)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or 'event'}: {error['msg']}"
                for error in exc.errors()[:5]
            )
            raise InvalidEventError(f"the {stage} event is invalid: {problems}") from None
        event = event.model_copy(update={"import_id": import_id})
        response = asyncio.run(work(event, context))
    except PermanentError as exc:
        log.warning("stage.failed", error_code=exc.code, error=exc.message)
        failure = response_model.failure(exc, user_id=user_id, import_id=import_id)
        publish_stage_metrics(stage=stage, seconds=time.perf_counter() - started, response=failure)
        return failure.model_dump(mode="json")
    except TransientError as exc:
        log.error(  # noqa: TRY400 - the code and message say it; no traceback wanted
            "stage.transient_failure", error_code=exc.code, error=exc.message
        )
        publish_stage_metrics(
            stage=stage, seconds=time.perf_counter() - started, response=None, error_code=exc.code
        )
        raise
    seconds = time.perf_counter() - started
    publish_stage_metrics(
        stage=stage, seconds=seconds, response=response if isinstance(response, _Response) else None
    )
    log.debug("handler.finished", duration_s=round(seconds, 3))
    dumped: dict[str, Any] = response.model_dump(mode="json")
    return dumped
