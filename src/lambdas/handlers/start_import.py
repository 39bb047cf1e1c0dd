"""Lambda handler for the SQS intake: each `{user_id, steam_id64}` message starts one execution."""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from typing import Any, Protocol, cast

import structlog
from pydantic import ValidationError

from lambdas.config import Settings
from lambdas.errors import ConfigurationError, InvalidEventError
from lambdas.handlers._runtime import container_settings, start_invocation
from lambdas.models.events import LambdaContext, SqsBatch, SqsRecord, SteamImportEvent

log = structlog.get_logger()

_EXECUTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


class StepFunctionsClient(Protocol):
    """The one boto3 Step Functions call the starter makes."""

    def start_execution(self, *, stateMachineArn: str, name: str, input: str) -> Any: ...


def execution_name(request: SteamImportEvent, *, message_id: str) -> str:
    """The import id and execution name: the request's own if valid, else derived from the message.

    A redelivered message keeps its id, so it maps to the same name and cannot start a second run.
    """
    if request.import_id and _EXECUTION_NAME.fullmatch(request.import_id):
        return request.import_id
    seed = f"{request.user_id}\n{request.import_id or message_id}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def handler(
    event: dict[str, Any],
    context: LambdaContext,
    *,
    client: StepFunctionsClient | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """SQS batch → one `StartExecution` per message; failed messages are reported for redelivery."""
    start_invocation(context, stage="start_import")
    settings = settings or container_settings()
    if not settings.state_machine_arn:
        raise ConfigurationError("STATE_MACHINE_ARN is not set")
    try:
        batch = SqsBatch.model_validate(event)
    except ValidationError as exc:  # not an SQS batch at all: a wiring mistake, not a message
        raise InvalidEventError(f"not an SQS batch ({exc.error_count()} problems)") from exc
    sfn = client or _stepfunctions_client(settings.aws_region)
    failures = [
        {"itemIdentifier": record.message_id}
        for record in batch.records
        if not _start(record, sfn=sfn, state_machine_arn=settings.state_machine_arn)
    ]
    log.info("start_import.finished", received=len(batch.records), failed=len(failures))
    return {"batchItemFailures": failures}


def _start(record: SqsRecord, *, sfn: StepFunctionsClient, state_machine_arn: str) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    message_id = record.message_id
    try:
        request = SteamImportEvent.model_validate_json(record.body)
    except ValidationError as exc:
        # Reported as failed: after the queue's receive limit it waits in the DLQ for a look.
        log.warning("start_import.invalid_message", message_id=message_id, errors=exc.error_count())
        return False
    name = execution_name(request, message_id=message_id)
    payload = request.model_copy(update={"import_id": name}).model_dump(mode="json")
    try:
        sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ExecutionAlreadyExists":  # a redelivery of a message already started
            log.info("start_import.already_started", import_id=name, user_id=request.user_id)
            return True
        log.warning("start_import.start_failed", import_id=name, aws_error=code)
        return False
    except BotoCoreError as exc:
        log.warning("start_import.start_failed", import_id=name, aws_error=type(exc).__name__)
        return False
    log.info("start_import.started", import_id=name, user_id=request.user_id)
    return True


@cache
def _stepfunctions_client(region: str) -> StepFunctionsClient:
    """One client per container, made on first use (never at import)."""
    import boto3

    return cast(StepFunctionsClient, boto3.client("stepfunctions", region_name=region))
