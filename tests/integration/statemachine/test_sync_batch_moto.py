"""The real `infra/statemachine/sync.asl.json`, executed by moto, with the import machine nested.

One execution syncs a batch of users: stage 1 for each, one prefetch of all their apps into the
shared app cache, then each user's import as its own execution of the import state machine
(`startExecution.sync:2`), named after its import id. Lambda invocations are routed in-process
to our handlers, as in test_state_machine_moto.py; the stages use the sandbox, moto's S3 server
and PostgreSQL.

moto 5.2.5 passes the ASL's `StartExecution` parameters to boto3 as written (`StateMachineArn`,
where boto3 wants `stateMachineArn`) and reads boto3's answer as if it were the service's
(`ExecutionArn`); `nested_executions` translates both ways, as AWS's own integration does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_sfn,
)
from tests.integration.db.helpers import rows
from tests.integration.statemachine.test_state_machine_moto import (
    ACCOUNT,
    REGION,
    LambdaRouter,
    Machine,
    RetryWaits,
    function_arn,
)

from lambdas.clients.igdb import reset_process_caches
from lambdas.database.users import ensure_user
from lambdas.errors import UpstreamUnavailableError
from lambdas.handlers import shared_prefetch
from lambdas.handlers.scheduled_sync import sync_import_id
from lambdas.models.rows import MatchStatus
from lambdas.sql.engine import create_engine
from steam_sandbox import Sandbox

SYNC_ASL = Path(__file__).parents[3] / "infra" / "statemachine" / "sync.asl.json"
DAY = "20261207"
KINDS = ("small", "medium")


class SyncMachine:
    """The sync batch machine in moto, beside the import machine it starts executions of."""

    def __init__(self, imports: Machine) -> None:
        self.imports = imports
        definition = SYNC_ASL.read_text(encoding="utf-8")
        for key in ("SteamImportFunctionArn", "SharedPrefetchFunctionArn"):
            definition = definition.replace("${" + key + "}", function_arn(key))
        definition = definition.replace("${ImportStateMachineArn}", imports.arn)
        assert "${" not in definition
        self.sfn = imports.sfn
        self.arn = self.sfn.create_state_machine(
            name="SyncBatchStateMachine",
            definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/sync-state-machine",
            type="STANDARD",
        )["stateMachineArn"]

    def run(self, users: list[dict[str, Any]], *, name: str) -> dict[str, Any]:
        arn = self.sfn.start_execution(
            stateMachineArn=self.arn, name=name, input=json.dumps({"users": users})
        )["executionArn"]
        deadline = time.monotonic() + 300
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return dict(described)
            assert time.monotonic() < deadline, "the batch execution did not end"
            time.sleep(0.05)

    def user_imports(self) -> dict[str, str]:
        """Each execution of the import machine: its name (the import id) → status."""
        executions = self.sfn.list_executions(stateMachineArn=self.imports.arn)["executions"]
        return {execution["name"]: execution["status"] for execution in executions}


@pytest.fixture
def nested_executions(monkeypatch: pytest.MonkeyPatch) -> None:
    original = state_task_service_sfn.StateTaskServiceSfn._eval_service_task

    def translated(
        self: Any,
        env: Any,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        request = {key[:1].lower() + key[1:]: value for key, value in normalised_parameters.items()}
        original(self, env, resource_runtime_part, request, state_credentials)
        answer = env.stack.pop()
        env.stack.append(
            {
                key[:1].upper() + key[1:]: value.isoformat()
                if hasattr(value, "isoformat")
                else value
                for key, value in answer.items()
            }
        )

    monkeypatch.setattr(
        state_task_service_sfn.StateTaskServiceSfn, "_eval_service_task", translated
    )


@pytest.fixture
def batch(
    nested_executions: None,
    stage_environment: str,
    router: LambdaRouter,
    waits: RetryWaits,
    s3_server: str,
    s3_bucket: str,
) -> Iterator[SyncMachine]:
    router.handlers[function_arn("SharedPrefetchFunctionArn")] = shared_prefetch.handler
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        boto3.client("s3", endpoint_url=s3_server, region_name=REGION).create_bucket(
            Bucket=s3_bucket
        )
        yield SyncMachine(Machine())


def batch_users(
    sandbox: Sandbox, database_url: str, kinds: tuple[str, ...]
) -> list[dict[str, Any]]:
    """One connected app user per sandbox Steam user, as the scheduler lists them."""
    engine = create_engine(database_url)
    users = []
    try:
        for number, kind in enumerate(kinds):
            user_id = f"cuserbatch{number:016d}"
            ensure_user(engine, user_id=user_id, create=True)
            users.append(
                {
                    "user_id": user_id,
                    "steam_id64": sandbox.users.by_name(kind).steamid64,
                    "import_id": sync_import_id(user_id, day=DAY),
                }
            )
    finally:
        engine.dispose()
    return users


def stage_calls(router: LambdaRouter, stage: str) -> list[dict[str, Any]]:
    return [event for name, event in router.calls if name == stage]


def owned_games_calls(sandbox: Sandbox) -> int:
    return sandbox.stats().total("steam", "GetOwnedGames", 200)


def imported_per_user(database_url: str, users: list[dict[str, Any]]) -> dict[str, int]:
    engine = create_engine(database_url)
    try:
        return {
            user["user_id"]: len(rows(engine, "ImportedGame", userId=user["user_id"]))
            for user in users
        }
    finally:
        engine.dispose()


def test_a_batch_fetches_each_user_once_looks_up_once_and_imports_everyone(
    batch: SyncMachine, router: LambdaRouter, fresh_sandbox: Sandbox, stage_environment: str
) -> None:
    users = batch_users(fresh_sandbox, stage_environment, KINDS)

    execution = batch.run(users, name=f"sync-{DAY}-s0-b0-all")

    assert execution["status"] == "SUCCEEDED", execution
    # Steam's owned games asked once per user: the user's own import reused stage 1's result.
    assert owned_games_calls(fresh_sandbox) == len(users)
    assert len(stage_calls(router, "SteamImport")) == 2 * len(users)
    (prefetch,) = stage_calls(router, "SharedPrefetch")
    assert [user["user_id"] for user in prefetch["users"]] == [u["user_id"] for u in users]
    # Every user's own import is an execution named after its import id, and succeeded.
    assert batch.user_imports() == {user["import_id"]: "SUCCEEDED" for user in users}
    # The users' stage 2 found the prefetched answers: no IGDB request or GetItems call of theirs.
    enriched = stage_calls(router, "DatabaseImport")  # each is stage 2's response
    assert len(enriched) == len(users)
    for event in enriched:
        assert event["stats"]["igdb_requests"] == 0, event["user_id"]
        assert event["stats"]["steam_store_calls"] == 0, event["user_id"]
    imported = imported_per_user(stage_environment, users)
    for user, kind in zip(users, KINDS, strict=True):
        truth = fresh_sandbox.ground_truth(kind)
        games = [app for app in truth if app.status != MatchStatus.FILTERED]
        assert imported[user["user_id"]] == len(games), kind


def test_one_failing_user_fails_only_that_user(
    batch: SyncMachine, router: LambdaRouter, fresh_sandbox: Sandbox, stage_environment: str
) -> None:
    users = batch_users(fresh_sandbox, stage_environment, ("small", "private_profile", "medium"))

    execution = batch.run(users, name=f"sync-{DAY}-s0-b0-one-fails")

    assert execution["status"] == "SUCCEEDED", execution
    statuses = batch.user_imports()
    assert statuses == {
        users[0]["import_id"]: "SUCCEEDED",
        users[1]["import_id"]: "FAILED",
        users[2]["import_id"]: "SUCCEEDED",
    }
    imported = imported_per_user(stage_environment, users)
    assert imported[users[1]["user_id"]] == 0
    assert imported[users[0]["user_id"]] > 0 and imported[users[2]["user_id"]] > 0
    # The failure reached the app as the import machine's failure event.
    failures = [e for e in batch.imports.outcome_events() if e["detail-type"].endswith("Failed")]
    assert [event["detail"]["error_code"] for event in failures] == ["PRIVATE_PROFILE"]


def test_a_failed_prefetch_costs_each_user_only_its_own_requests(
    batch: SyncMachine, router: LambdaRouter, fresh_sandbox: Sandbox, stage_environment: str
) -> None:
    def unavailable(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise UpstreamUnavailableError("IGDB is down for the prefetch")

    router.handlers[function_arn("SharedPrefetchFunctionArn")] = unavailable
    reset_process_caches()  # cold containers: no IGDB answer kept in memory from another test
    users = batch_users(fresh_sandbox, stage_environment, KINDS)

    execution = batch.run(users, name=f"sync-{DAY}-s0-b0-no-prefetch")

    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["prefetch_failed"]["Error"] == "UpstreamUnavailableError"
    assert batch.user_imports() == {user["import_id"]: "SUCCEEDED" for user in users}
    # Each user's stage 2 asked for its own apps instead.
    asked = [event["stats"]["igdb_requests"] for event in stage_calls(router, "DatabaseImport")]
    assert len(asked) == len(users) and sum(asked) >= 1
    assert owned_games_calls(fresh_sandbox) == len(users)


def test_a_batch_run_again_duplicates_nothing(
    batch: SyncMachine, router: LambdaRouter, fresh_sandbox: Sandbox, stage_environment: str
) -> None:
    users = batch_users(fresh_sandbox, stage_environment, KINDS)
    first = batch.run(users, name=f"sync-{DAY}-s0-b0-first")
    assert first["status"] == "SUCCEEDED", first
    before = imported_per_user(stage_environment, users)
    steam_before = owned_games_calls(fresh_sandbox)
    loads_before = len(stage_calls(router, "DatabaseImport"))

    # The same users again, as a retried schedule or an overlapping batch would send them.
    again = batch.run(users, name=f"sync-{DAY}-s0-b0-again")

    assert again["status"] == "SUCCEEDED", again
    assert owned_games_calls(fresh_sandbox) == steam_before  # stage 1 reused what it stored
    assert len(stage_calls(router, "DatabaseImport")) == loads_before  # no user imported twice
    assert len(batch.user_imports()) == len(users)
    assert imported_per_user(stage_environment, users) == before
