"""The real `infra/statemachine/import.asl.json`, executed by moto's Step Functions interpreter.

moto runs every state (Choice, Retry, Catch, Pass, the EventBridge integration); only its Lambda
invocation is routed, in this process, to our three stage handlers, because moto's own Lambda
runtime needs Docker. The stages talk to the sandbox over HTTP, keep their CSVs in moto's S3 server
and load into PostgreSQL, as in the rest of the suite. The outcome events reach an SQS queue
through an EventBridge rule, as the app would receive them.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from tests.integration.databases import empty_tables_at
from tests.integration.db.helpers import count

from lambdas.database.users import ensure_user
from lambdas.handlers import database_import, igdb_enrichment, steam_import
from lambdas.models.events import Stage
from lambdas.sql.engine import create_engine
from lambdas.stages import skipped_response
from steam_sandbox import Sandbox

ASL = Path(__file__).parents[3] / "infra" / "statemachine" / "import.asl.json"
REGION = "us-east-1"
ACCOUNT = "123456789012"
EVENT_SOURCE = "steam-library-import"
USER = "cuser0000000000000000000042"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

FUNCTIONS: dict[str, Handler] = {
    "SteamImportFunctionArn": steam_import.handler,
    "IgdbEnrichmentFunctionArn": igdb_enrichment.handler,
    "DatabaseImportFunctionArn": database_import.handler,
}


def function_arn(substitution: str) -> str:
    name = substitution.removesuffix("FunctionArn")
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


class LambdaRouter:
    """Stands in for Lambda's Invoke: runs the handler the ARN names, in this process.

    An exception becomes what Lambda's Python runtime answers for it: `FunctionError: Unhandled`
    and a payload with `errorType` (the class name the ASL's Retry and Catch match on).
    """

    def __init__(self) -> None:
        self.handlers = {function_arn(key): handler for key, handler in FUNCTIONS.items()}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, parameters: dict[str, Any], region: str, state_credentials: Any) -> Any:
        arn = parameters["FunctionName"]
        event = json.loads(parameters["Payload"])
        self.calls.append((arn.rsplit(":", 1)[-1], event))
        context = SimpleNamespace(aws_request_id=f"req-{len(self.calls)}", function_name=arn)
        try:
            payload = self.handlers[arn](event, context)
        except Exception as exc:
            return {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "stackTrace": traceback.format_exception(exc)[-3:],
                },
            }
        return {"StatusCode": 200, "Payload": json.loads(json.dumps(payload))}

    def stages(self) -> list[str]:
        return [name for name, _ in self.calls]


class RetryWaits:
    """moto's Retry sleeps for real; this records each wait instead and runs `on_wait`."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.on_wait: Callable[[], None] = lambda: None

    def sleep(self, seconds: float) -> None:
        self.seconds.append(seconds)
        self.on_wait()


@pytest.fixture
def router(monkeypatch: pytest.MonkeyPatch) -> LambdaRouter:
    routed = LambdaRouter()
    monkeypatch.setattr(lambda_eval_utils, "_invoke_lambda_function", routed.invoke)
    return routed


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> RetryWaits:
    recorded = RetryWaits()
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=recorded.sleep))
    return recorded


@pytest.fixture
def stage_environment(
    fresh_sandbox: Sandbox,
    pg_migrated_url: str,
    s3_server: str,
    s3_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """What the template gives the functions, pointed at the sandbox, moto's S3 and PostgreSQL."""
    empty_tables_at(pg_migrated_url)
    for name, value in fresh_sandbox.env().items():
        monkeypatch.setenv(name, value)
    for name, value in {
        "S3_BUCKET": s3_bucket,
        "S3_ENDPOINT_URL": s3_server,
        "DATABASE_URL": pg_migrated_url,
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_FORMAT": "json",
        "STEAM_MAX_ATTEMPTS": "1",  # a 429 reaches the state machine's Retry at once
        "RETRY_INITIAL_WAIT_SECONDS": "0.01",
        "RETRY_MAX_WAIT_SECONDS": "0.05",
    }.items():
        monkeypatch.setenv(name, value)
    engine = create_engine(pg_migrated_url)
    ensure_user(engine, user_id=USER, create=True)
    engine.dispose()
    return pg_migrated_url


class Machine:
    """The state machine created from the ASL file in moto, and an SQS queue of its events."""

    def __init__(self) -> None:
        definition = ASL.read_text(encoding="utf-8")
        for key in FUNCTIONS:
            definition = definition.replace("${" + key + "}", function_arn(key))
        definition = definition.replace("${EventBusName}", "default")
        definition = definition.replace("${EventSource}", EVENT_SOURCE)
        assert "${" not in definition
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.arn = self.sfn.create_state_machine(
            name="ImportStateMachine",
            definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/import-state-machine",
            type="STANDARD",
        )["stateMachineArn"]
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = self.sqs.create_queue(QueueName="import-events")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        events = boto3.client("events", region_name=REGION)
        events.put_rule(
            Name="import-outcomes",
            EventPattern=json.dumps(
                {
                    "source": [EVENT_SOURCE],
                    "detail-type": ["Steam Import Completed", "Steam Import Failed"],
                }
            ),
        )
        events.put_targets(Rule="import-outcomes", Targets=[{"Id": "q", "Arn": queue_arn}])

    def run(self, request: dict[str, Any], *, name: str) -> dict[str, Any]:
        """Start one execution named `name` and wait until it ends; its description."""
        arn = self.sfn.start_execution(
            stateMachineArn=self.arn, name=name, input=json.dumps(request)
        )["executionArn"]
        deadline = time.monotonic() + 120
        while True:
            described = self.sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return dict(described)
            assert time.monotonic() < deadline, "the execution did not end"
            time.sleep(0.05)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        return list(
            self.sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
        )

    def entered(self, execution_arn: str) -> list[str]:
        """The names of the states the execution entered, in order."""
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in self.history(execution_arn)
            if "stateEnteredEventDetails" in event
        ]

    def outcome_events(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def machine(
    stage_environment: str, router: LambdaRouter, waits: RetryWaits, s3_server: str, s3_bucket: str
) -> Iterator[Machine]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        # Starting the mock resets every moto backend, the S3 server's (same process) included.
        boto3.client("s3", endpoint_url=s3_server, region_name=REGION).create_bucket(
            Bucket=s3_bucket
        )
        yield Machine()


def request(sandbox: Sandbox, kind: str) -> dict[str, Any]:
    return {"user_id": USER, "steam_id64": sandbox.users.by_name(kind).steamid64}


def test_success_runs_the_three_stages_and_publishes_the_completion_event(
    machine: Machine, router: LambdaRouter, fresh_sandbox: Sandbox, stage_environment: str
) -> None:
    import_id = "imp-success-0001"
    execution = machine.run(
        {**request(fresh_sandbox, "medium"), "import_id": import_id}, name=import_id
    )

    assert execution["status"] == "SUCCEEDED", execution
    assert router.stages() == ["SteamImport", "IgdbEnrichment", "DatabaseImport"]
    # each stage got the previous stage's response as its event
    assert router.calls[1][1]["s3_location"].startswith("s3://")
    assert router.calls[2][1]["s3_enriched_location"].startswith("s3://")
    output = json.loads(execution["output"])
    assert output["steam"]["success"] and output["enrichment"]["success"]
    assert output["database"]["success"]
    assert machine.entered(execution["executionArn"])[-2:] == [
        "PublishCompleted",
        "ImportSucceeded",
    ]

    (event,) = machine.outcome_events()
    assert event["detail-type"] == "Steam Import Completed"
    assert event["source"] == EVENT_SOURCE
    detail = event["detail"]
    assert detail["import_id"] == import_id and detail["user_id"] == USER
    assert detail["execution_arn"] == execution["executionArn"]
    assert detail["game_count"] == len(fresh_sandbox.ground_truth("medium"))
    assert detail["enrichment"] == output["enrichment"]["stats"]
    assert detail["database"] == output["database"]["stats"]
    engine = create_engine(stage_environment)
    try:
        games = detail["enrichment"]["matched"] + detail["enrichment"]["unmatched"]
        assert (
            count(engine, "ImportedGame") == games == detail["database"]["imported_games_created"]
        )
    finally:
        engine.dispose()


def test_a_private_profile_ends_in_the_rejected_path(
    machine: Machine, router: LambdaRouter, fresh_sandbox: Sandbox
) -> None:
    execution = machine.run(request(fresh_sandbox, "private_profile"), name="imp-private-0001")

    assert execution["status"] == "FAILED"
    assert execution["error"] == "PRIVATE_PROFILE"
    assert router.stages() == ["SteamImport"]  # no later stage, no retry of a permanent error
    entered = machine.entered(execution["executionArn"])
    assert entered == [
        "SteamImport",
        "CheckSteamImport",
        "SteamImportRejected",
        "PublishFailed",
        "ImportFailed",
    ]
    (event,) = machine.outcome_events()
    assert event["detail-type"] == "Steam Import Failed"
    detail = event["detail"]
    assert detail["stage"] == "steam_import"
    assert detail["error_code"] == "PRIVATE_PROFILE"
    assert detail["error_type"] is None
    assert detail["import_id"] == "imp-private-0001"
    assert "private" in detail["error"]


def test_a_throttled_stage_is_retried_by_the_machine_and_then_succeeds(
    machine: Machine, router: LambdaRouter, waits: RetryWaits, fresh_sandbox: Sandbox
) -> None:
    fresh_sandbox.set_knobs(steam={"daily_limit": 0})  # every Steam call answers 429
    # The throttle lifts while the machine waits before its retry.
    waits.on_wait = lambda: fresh_sandbox.set_knobs(steam={"daily_limit": 100_000})

    execution = machine.run(request(fresh_sandbox, "small"), name="imp-throttled-0001")

    assert execution["status"] == "SUCCEEDED", machine.entered(execution["executionArn"])
    assert router.stages() == ["SteamImport", "SteamImport", "IgdbEnrichment", "DatabaseImport"]
    # one wait, from the SteamRateLimitedError retrier: 60 s with full jitter
    assert len(waits.seconds) == 1 and 0 <= waits.seconds[0] <= 60
    assert fresh_sandbox.stats().rate_limited.get("steam", 0) >= 1
    history = machine.history(execution["executionArn"])
    failures = [e for e in history if e["type"] == "LambdaFunctionFailed"]
    assert [f["lambdaFunctionFailedEventDetails"]["error"] for f in failures] == [
        "SteamRateLimitedError"
    ]
    (event,) = machine.outcome_events()
    assert event["detail-type"] == "Steam Import Completed"


def test_an_unexpected_exception_lands_in_the_failure_path_with_the_import_id(
    machine: Machine, router: LambdaRouter, waits: RetryWaits, fresh_sandbox: Sandbox
) -> None:
    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise KeyError("a bug in stage 2")

    router.handlers[function_arn("IgdbEnrichmentFunctionArn")] = broken
    import_id = "imp-bug-0001"

    execution = machine.run(
        {**request(fresh_sandbox, "small"), "import_id": import_id}, name=import_id
    )

    assert execution["status"] == "FAILED"
    assert execution["error"] == "UNHANDLED_ERROR"
    assert router.stages() == ["SteamImport", "IgdbEnrichment"]  # a bug is not retried
    assert waits.seconds == []
    assert machine.entered(execution["executionArn"]) == [
        "SteamImport",
        "CheckSteamImport",
        "IgdbEnrichment",
        "IgdbEnrichmentRaised",
        "ClassifyRaisedError",
        "CodeUnhandledError",
        "PublishFailed",
        "ImportFailed",
    ]
    (event,) = machine.outcome_events()
    detail = event["detail"]
    assert event["detail-type"] == "Steam Import Failed"
    assert detail["import_id"] == import_id
    assert detail["execution_arn"] == execution["executionArn"]
    assert detail["stage"] == "igdb_enrichment"
    assert detail["error_code"] == "UNHANDLED_ERROR"
    assert detail["error_type"] == "KeyError"
    assert "a bug in stage 2" in detail["error"]
    assert detail["user_id"] == USER


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        return {table: count(engine, table) for table in ("ImportedGame", "Game", "LibraryItem")}
    finally:
        engine.dispose()


def test_an_unchanged_library_skips_stages_2_and_3_and_touches_no_row(
    machine: Machine, router: LambdaRouter, fresh_sandbox: Sandbox, stage_environment: str
) -> None:
    first = machine.run({**request(fresh_sandbox, "small"), "import_id": "imp-a"}, name="imp-a")
    assert first["status"] == "SUCCEEDED", machine.entered(first["executionArn"])
    machine.outcome_events()
    before = _counts(stage_environment)

    again = machine.run({**request(fresh_sandbox, "small"), "import_id": "imp-b"}, name="imp-b")

    assert again["status"] == "SUCCEEDED", machine.entered(again["executionArn"])
    # stage 1 ran; the Choice after it skipped both later stages
    assert router.stages()[3:] == ["SteamImport"]
    entered = machine.entered(again["executionArn"])
    assert entered == [
        "SteamImport",
        "CheckSteamImport",
        "SkipIgdbEnrichment",
        "SkipDatabaseImport",
        "PublishCompleted",
        "ImportSucceeded",
    ]
    assert _counts(stage_environment) == before
    output = json.loads(again["output"])
    steam, enrichment, database = output["steam"], output["enrichment"], output["database"]
    assert steam["unchanged"] is True
    # the Pass states answer what the pipeline's skipped stages answer
    for stage, answer in ((Stage.ENRICH, enrichment), (Stage.LOAD, database)):
        previous = steam if stage is Stage.ENRICH else enrichment
        expected = skipped_response(stage, previous).model_dump(mode="json")
        assert {key: expected[key] for key in answer} == answer
    stats = enrichment["stats"]
    assert stats["processed"] == steam["game_count"] == len(fresh_sandbox.ground_truth("small"))
    assert stats["matched"] + stats["unmatched"] + stats["filtered"] == stats["processed"]
    assert stats["reused"] == stats["matched"] + stats["unmatched"]
    assert stats["igdb_requests"] == 0
    assert database["unchanged"] is True
    written = {
        key: value for key, value in database["stats"].items() if key != "catalogue_verified"
    }
    assert not any(written.values())  # nothing created, updated or kept
    (event,) = machine.outcome_events()
    assert event["detail-type"] == "Steam Import Completed"
    assert event["detail"]["unchanged"] is True
    assert event["detail"]["database"] == database["stats"]


def test_a_failed_stage_3_leaves_the_state_so_the_next_run_does_the_full_work(
    machine: Machine, router: LambdaRouter, fresh_sandbox: Sandbox, stage_environment: str
) -> None:
    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise KeyError("stage 3 died before committing")

    router.handlers[function_arn("DatabaseImportFunctionArn")] = broken
    failed = machine.run(request(fresh_sandbox, "small"), name="imp-fail-0001")
    assert failed["status"] == "FAILED"
    assert _counts(stage_environment)["ImportedGame"] == 0
    machine.outcome_events()

    router.handlers[function_arn("DatabaseImportFunctionArn")] = database_import.handler
    again = machine.run(request(fresh_sandbox, "small"), name="imp-fail-0002")

    assert again["status"] == "SUCCEEDED", machine.entered(again["executionArn"])
    assert router.stages()[3:] == ["SteamImport", "IgdbEnrichment", "DatabaseImport"]
    output = json.loads(again["output"])
    assert output["steam"]["unchanged"] is False
    assert output["enrichment"]["changes"]["full"] is True  # no committed state to build on
    loaded = output["database"]["stats"]
    games = output["enrichment"]["stats"]["matched"] + output["enrichment"]["stats"]["unmatched"]
    assert loaded["imported_games_created"] == games == _counts(stage_environment)["ImportedGame"]
    assert output["database"]["unchanged"] is False
