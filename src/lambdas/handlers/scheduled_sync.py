"""Lambda handler for the periodic sync: the users due in this run, in batches or queued.

With `SYNC_STATE_MACHINE_ARN` set (the template sets it), each batch of `SYNC_BATCH_USERS` users
becomes one execution of the sync batch state machine (infra/statemachine/sync.asl.json): stage 1
for every user, one shared look-up of all their apps, then each user's import. Without it, one
import request per user goes to the SQS intake, as an on-demand import would.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol, cast

import structlog

from lambdas.config import Settings
from lambdas.errors import ConfigurationError, UpstreamUnavailableError
from lambdas.handlers._runtime import container_settings, start_invocation
from lambdas.models.events import LambdaContext, SteamImportEvent
from lambdas.sync.schedule import SyncPlan, plan_sync

log = structlog.get_logger()

SQS_BATCH = 10  # SendMessageBatch's limit
#: A batch execution's input stays under this many bytes: Step Functions carries at most 256 KiB
#: of state, and the batch adds its prefetch result to it.
MAX_BATCH_INPUT_BYTES = 200 * 1024
ListSyncRequests = Callable[..., Sequence[SteamImportEvent]]


class SqsClient(Protocol):
    """The one boto3 SQS call the sync makes."""

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> Any: ...


class StepFunctionsClient(Protocol):
    """The one boto3 Step Functions call the batch path makes."""

    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> Any: ...


def sync_import_id(user_id: str, *, day: str) -> str:
    """One import id per user and scheduled day, so a retried schedule starts nothing twice."""
    return f"sync-{day}-{hashlib.sha256(user_id.encode()).hexdigest()[:16]}"


def handler(
    event: dict[str, Any],
    context: LambdaContext,
    *,
    client: SqsClient | None = None,
    sfn_client: StepFunctionsClient | None = None,
    settings: Settings | None = None,
    list_requests: ListSyncRequests | None = None,
) -> dict[str, int]:
    """Scheduler event `{scheduled_time}` → the users due, within the budget: one batch
    execution per `SYNC_BATCH_USERS`, or one SQS message each."""
    start_invocation(context, stage="scheduled_sync")
    settings = settings or container_settings()
    if not settings.sync_state_machine_arn and not settings.import_queue_url:
        raise ConfigurationError("neither SYNC_STATE_MACHINE_ARN nor IMPORT_QUEUE_URL is set")
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
    scheduled = [
        request.model_copy(
            update={"import_id": request.import_id or sync_import_id(request.user_id, day=day)}
        )
        for request in plan.scheduled
    ]
    if settings.sync_state_machine_arn:
        return _start_batches(
            scheduled,
            plan=plan,
            name_prefix=f"sync-{day}-s{plan.slot}",
            batch_users=settings.sync_batch_users,
            sfn=sfn_client or _stepfunctions_client(settings.aws_region),
            state_machine_arn=settings.sync_state_machine_arn,
        )
    queue_url = settings.import_queue_url or ""  # set: checked before the users were listed
    bodies = [request.model_dump_json(exclude_none=True) for request in scheduled]
    sqs = client or _sqs_client(settings.aws_region)
    failed = sum(
        _send(sqs, queue_url, bodies[start : start + SQS_BATCH])
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


def _start_batches(
    scheduled: list[SteamImportEvent],
    *,
    plan: SyncPlan,
    name_prefix: str,
    batch_users: int,
    sfn: StepFunctionsClient,
    state_machine_arn: str,
) -> dict[str, int]:
    """One execution of the sync batch machine per batch; a batch already started is not again.

    An execution is named after its users, so a retried schedule finds its batches started, and
    a batch whose users changed starts anew: its users' imports keep their per-day import ids,
    so whoever was already imported is not imported twice.
    """
    started = already = failed_users = 0
    batches = list(batches_of(scheduled, size=batch_users))
    for number, users in enumerate(batches):
        body = batch_input(users)
        digest = hashlib.sha256(body.encode()).hexdigest()[:16]
        name = f"{name_prefix}-b{number}-{digest}"
        outcome = _start_execution(sfn, state_machine_arn, name=name, body=body)
        if outcome == "started":
            started += 1
        elif outcome == "already":
            already += 1
        else:
            failed_users += len(users)
    summary = {
        "users": plan.due,
        "batches": len(batches),
        "started": started,
        "already_started": already,
        "failed": failed_users,
        "deferred": plan.deferred,
    }
    log.info("scheduled_sync.finished", slot=plan.slot, steam_calls=plan.steam_calls, **summary)
    if failed_users:  # a retry is safe: the names repeat
        raise UpstreamUnavailableError(
            f"Step Functions refused batches holding {failed_users} of {len(scheduled)} users"
        )
    return summary


def batch_input(users: Sequence[SteamImportEvent]) -> str:
    """A batch execution's input: `{"users": [stage-1 event, …]}`."""
    return json.dumps(
        {"users": [user.model_dump(mode="json", exclude_none=True) for user in users]},
        separators=(",", ":"),
    )


def batches_of(users: Sequence[SteamImportEvent], *, size: int) -> Iterator[list[SteamImportEvent]]:
    """Runs of at most `size` users whose input fits a Step Functions state, in plan order."""
    empty = len(batch_input([]))
    batch: list[SteamImportEvent] = []
    length = empty
    for user in users:
        entry = len(batch_input([user])) - empty + 1  # its JSON and a comma
        if batch and (len(batch) >= size or length + entry > MAX_BATCH_INPUT_BYTES):
            yield batch
            batch, length = [], empty
        batch.append(user)
        length += entry
    if batch:
        yield batch


def _start_execution(sfn: StepFunctionsClient, arn: str, *, name: str, body: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        sfn.start_execution(stateMachineArn=arn, name=name, input=body)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ExecutionAlreadyExists":
            log.info("scheduled_sync.batch_already_started", execution=name)
            return "already"
        log.warning("scheduled_sync.batch_not_started", execution=name, aws_error=code)
        return "failed"
    except BotoCoreError as exc:
        log.warning(
            "scheduled_sync.batch_not_started", execution=name, aws_error=type(exc).__name__
        )
        return "failed"
    log.info("scheduled_sync.batch_started", execution=name)
    return "started"


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
def _stepfunctions_client(region: str) -> StepFunctionsClient:
    """One client per container, made on first use (never at import)."""
    import boto3

    return cast(StepFunctionsClient, boto3.client("stepfunctions", region_name=region))


@cache
def _sqs_client(region: str) -> SqsClient:
    """One client per container, made on first use (never at import)."""
    import boto3

    return cast(SqsClient, boto3.client("sqs", region_name=region))
