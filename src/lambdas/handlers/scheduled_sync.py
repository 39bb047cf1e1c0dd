"""Lambda handler for the periodic sync: one import request per Steam-connected user, queued."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol, cast

import structlog

from lambdas.config import Settings
from lambdas.errors import ConfigurationError, UpstreamUnavailableError
from lambdas.handlers._runtime import container_settings, start_invocation
from lambdas.models.events import LambdaContext, SteamImportEvent
from lambdas.sync.schedule import plan_sync

log = structlog.get_logger()

SQS_BATCH = 10  # SendMessageBatch's limit
ListSyncRequests = Callable[..., Sequence[SteamImportEvent]]


class SqsClient(Protocol):
    """The one boto3 SQS call the sync makes."""

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> Any: ...


def sync_import_id(user_id: str, *, day: str) -> str:
    """One import id per user and scheduled day, so a retried schedule starts nothing twice."""
    return f"sync-{day}-{hashlib.sha256(user_id.encode()).hexdigest()[:16]}"


def handler(
    event: dict[str, Any],
    context: LambdaContext,
    *,
    client: SqsClient | None = None,
    settings: Settings | None = None,
    list_requests: ListSyncRequests | None = None,
) -> dict[str, int]:
    """Scheduler event `{scheduled_time}` → one SQS message per user due, within the budget."""
    start_invocation(context, stage="scheduled_sync")
    settings = settings or container_settings()
    if not settings.import_queue_url:
        raise ConfigurationError("IMPORT_QUEUE_URL is not set")
    requests = (list_requests or _list_sync_requests())(settings=settings)
    moment = _scheduled_time(event)
    plan = plan_sync(
        requests,
        moment=moment,
        runs_per_day=settings.sync_runs_per_day,
        daily_call_budget=settings.steam_daily_call_budget,
    )
    if plan.deferred:
        log.warning("scheduled_sync.over_budget", deferred=plan.deferred, reason=plan.reason())
    day = f"{moment:%Y%m%d}"
    bodies = [
        request.model_copy(
            update={"import_id": request.import_id or sync_import_id(request.user_id, day=day)}
        ).model_dump_json(exclude_none=True)
        for request in plan.scheduled
    ]
    sqs = client or _sqs_client(settings.aws_region)
    failed = sum(
        _send(sqs, settings.import_queue_url, bodies[start : start + SQS_BATCH])
        for start in range(0, len(bodies), SQS_BATCH)
    )
    summary = {
        "users": plan.due,
        "queued": len(bodies) - failed,
        "failed": failed,
        "deferred": plan.deferred,
    }
    log.info("scheduled_sync.finished", slot=plan.slot, steam_calls=plan.steam_calls, **summary)
    if failed:  # visible as a function error; a retry is safe, the import ids repeat
        raise UpstreamUnavailableError(f"SQS refused {failed} of {len(bodies)} sync requests")
    return summary


def _send(sqs: SqsClient, queue_url: str, bodies: list[str]) -> int:
    """Send one batch; the number of messages SQS did not take."""
    from botocore.exceptions import BotoCoreError, ClientError

    entries = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies)]
    try:
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    except (ClientError, BotoCoreError) as exc:
        log.warning(
            "scheduled_sync.batch_failed", messages=len(entries), aws_error=type(exc).__name__
        )
        return len(entries)
    return len(answer.get("Failed", []))


def _scheduled_time(event: Any) -> datetime:
    """The schedule's own time in UTC (EventBridge Scheduler passes it), else now."""
    raw = event.get("scheduled_time") if isinstance(event, dict) else None
    try:
        moment = datetime.fromisoformat(raw) if isinstance(raw, str) else datetime.now(UTC)
    except ValueError:
        moment = datetime.now(UTC)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _list_sync_requests() -> ListSyncRequests:
    """`lambdas.sync.service.list_sync_requests`, imported on first use (it pulls in SQL)."""
    from lambdas.sync.service import list_sync_requests

    return list_sync_requests


@cache
def _sqs_client(region: str) -> SqsClient:
    """One client per container, made on first use (never at import)."""
    import boto3

    return cast(SqsClient, boto3.client("sqs", region_name=region))
