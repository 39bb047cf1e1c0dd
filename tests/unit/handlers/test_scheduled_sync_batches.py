"""The scheduled sync's batch path: one execution of the sync batch machine per batch of users,
against moto's Step Functions server (the executions are started, not run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.events import FakeLambdaContext
from tests.unit.handlers.aws_doubles import aws_client, resource_name
from tests.unit.handlers.test_scheduled_sync_handler import SCHEDULED, Lister, users

from lambdas.config import Settings
from lambdas.errors import UpstreamUnavailableError
from lambdas.handlers.scheduled_sync import (
    MAX_BATCH_INPUT_BYTES,
    batch_input,
    batches_of,
    handler,
    sync_import_id,
)
from lambdas.models.events import SteamImportEvent

SYNC_ASL = Path(__file__).parents[3] / "infra" / "statemachine" / "sync.asl.json"
CONTEXT = FakeLambdaContext()


@pytest.fixture
def sfn(s3_server: str) -> Any:
    return aws_client("stepfunctions", s3_server)


@pytest.fixture
def sync_machine(sfn: Any, request: pytest.FixtureRequest) -> str:
    definition = SYNC_ASL.read_text(encoding="utf-8")
    for key in ("SteamImportFunctionArn", "SharedPrefetchFunctionArn"):
        definition = definition.replace(
            "${" + key + "}", f"arn:aws:lambda:us-east-1:123456789012:function:{key}"
        )
    definition = definition.replace(
        "${ImportStateMachineArn}", "arn:aws:states:us-east-1:123456789012:stateMachine:import"
    )
    arn: str = sfn.create_state_machine(
        name=resource_name(request.node.name),
        definition=definition,
        roleArn="arn:aws:iam::123456789012:role/sync",
    )["stateMachineArn"]
    return arn


def started(sfn: Any, machine: str) -> list[dict[str, Any]]:
    """Each execution started: its name and input."""
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    return [
        {
            "name": execution["name"],
            "input": json.loads(
                sfn.describe_execution(executionArn=execution["executionArn"])["input"]
            ),
        }
        for execution in executions
    ]


def test_each_batch_of_users_is_one_execution_with_their_import_ids(
    sfn: Any, sync_machine: str
) -> None:
    settings = Settings(sync_state_machine_arn=sync_machine, sync_batch_users=10)

    summary = handler(
        SCHEDULED, CONTEXT, sfn_client=sfn, settings=settings, list_requests=Lister(users(23))
    )

    assert summary == {
        "users": 23,
        "batches": 3,
        "started": 3,
        "already_started": 0,
        "failed": 0,
        "deferred": 0,
    }
    executions = started(sfn, sync_machine)
    assert sorted(len(execution["input"]["users"]) for execution in executions) == [3, 10, 10]
    everyone = [user for execution in executions for user in execution["input"]["users"]]
    assert sorted(user["user_id"] for user in everyone) == sorted(f"user{i}" for i in range(23))
    for user in everyone:
        assert user["import_id"] == sync_import_id(user["user_id"], day="20250304")
        assert SteamImportEvent.model_validate(user).steam_id64 == user["steam_id64"]
    assert all(execution["name"].startswith("sync-20250304-s0-b") for execution in executions)


def test_a_retried_schedule_starts_no_batch_twice(sfn: Any, sync_machine: str) -> None:
    settings = Settings(sync_state_machine_arn=sync_machine, sync_batch_users=10)
    lister = Lister(users(15))
    handler(SCHEDULED, CONTEXT, sfn_client=sfn, settings=settings, list_requests=lister)

    again = handler(SCHEDULED, CONTEXT, sfn_client=sfn, settings=settings, list_requests=lister)

    # Step Functions answers a same-name start with the running execution (same input) or
    # ExecutionAlreadyExists (closed); either way no second execution exists.
    assert again["started"] + again["already_started"] == 2 and again["failed"] == 0
    assert len(started(sfn, sync_machine)) == 2


def test_a_batch_step_functions_refuses_is_reported_for_a_retry(sfn: Any) -> None:
    settings = Settings(
        sync_state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:missing",
        sync_batch_users=10,
    )

    with pytest.raises(UpstreamUnavailableError, match="12 of 12 users"):
        handler(
            SCHEDULED, CONTEXT, sfn_client=sfn, settings=settings, list_requests=Lister(users(12))
        )


def test_a_batch_input_always_fits_a_step_functions_state() -> None:
    """Long ids shrink a batch below SYNC_BATCH_USERS rather than overflow 256 KiB."""
    long_ids = [
        SteamImportEvent(
            user_id=f"{'u' * 120}{index:06d}",
            steam_id64=str(76561197960265728 + index),
            import_id=f"sync-20250304-{index:040d}",
        )
        for index in range(3_000)
    ]

    batches = list(batches_of(long_ids, size=3_000))

    assert len(batches) > 1
    assert [user for batch in batches for user in batch] == long_ids  # none lost, none twice
    for batch in batches:
        assert len(batch_input(batch)) <= MAX_BATCH_INPUT_BYTES
    assert len(batch_input(batches[0] + batches[1][:1])) > MAX_BATCH_INPUT_BYTES  # full batches
