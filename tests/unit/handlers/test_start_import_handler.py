"""The SQS starter against moto's Step Functions server: one execution per message, idempotently."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.events import FakeLambdaContext, load_event
from tests.unit.handlers.aws_doubles import (
    aws_client,
    create_import_state_machine,
    resource_name,
    sqs_event,
)

from lambdas.config import Settings
from lambdas.errors import ConfigurationError, InvalidEventError
from lambdas.handlers.start_import import execution_name, handler
from lambdas.models.events import SteamImportEvent

STEAM_ID = "76561197960287930"
CONTEXT = FakeLambdaContext()


@pytest.fixture
def sfn(s3_server: str) -> Any:
    return aws_client("stepfunctions", s3_server)


@pytest.fixture
def machine(sfn: Any, request: pytest.FixtureRequest) -> str:
    return create_import_state_machine(sfn, name=resource_name(request.node.name))


@pytest.fixture
def settings(machine: str) -> Settings:
    return Settings(state_machine_arn=machine)


def executions(sfn: Any, machine: str) -> dict[str, dict[str, Any]]:
    """Every execution of the machine by name, with its parsed input."""
    found = sfn.list_executions(stateMachineArn=machine)["executions"]
    return {
        item["name"]: json.loads(sfn.describe_execution(executionArn=item["executionArn"])["input"])
        for item in found
    }


def body(**fields: Any) -> str:
    return json.dumps(fields)


def test_each_message_starts_one_execution_named_by_its_import_id(
    sfn: Any, machine: str, settings: Settings
) -> None:
    event = sqs_event(
        ("m-1", body(user_id="u1", steam_id64=STEAM_ID)),
        ("m-2", body(user_id="u2", steam_id64=int(STEAM_ID))),  # numbers are accepted too
    )
    assert handler(event, CONTEXT, client=sfn, settings=settings) == {"batchItemFailures": []}

    started = executions(sfn, machine)
    first = execution_name(SteamImportEvent(user_id="u1", steam_id64=STEAM_ID), message_id="m-1")
    assert set(started) == {
        first,
        execution_name(SteamImportEvent(user_id="u2", steam_id64=STEAM_ID), message_id="m-2"),
    }
    # The input is the request as a stage-1 event, its import id the execution name.
    assert SteamImportEvent.model_validate(started[first]) == SteamImportEvent(
        user_id="u1", steam_id64=STEAM_ID, import_id=first
    )
    assert started[first]["import_id"] == first


def test_a_redelivered_message_starts_nothing_new(
    sfn: Any, machine: str, settings: Settings
) -> None:
    event = sqs_event(("m-1", body(user_id="u1", steam_id64=STEAM_ID)))
    handler(event, CONTEXT, client=sfn, settings=settings)
    # Still running: StartExecution answers with the same execution.
    assert handler(event, CONTEXT, client=sfn, settings=settings) == {"batchItemFailures": []}
    (arn,) = [
        item["executionArn"] for item in sfn.list_executions(stateMachineArn=machine)["executions"]
    ]
    sfn.stop_execution(executionArn=arn)
    # Finished: ExecutionAlreadyExists, which means the work was started before.
    assert handler(event, CONTEXT, client=sfn, settings=settings) == {"batchItemFailures": []}
    assert len(executions(sfn, machine)) == 1


def test_the_requests_own_import_id_names_the_execution(
    sfn: Any, machine: str, settings: Settings
) -> None:
    event = sqs_event(
        ("m-1", body(user_id="u1", steam_id64=STEAM_ID, import_id="app-run-42")),
        ("m-2", body(user_id="u2", steam_id64=STEAM_ID, import_id="not a name/../")),
    )
    handler(event, CONTEXT, client=sfn, settings=settings)
    started = executions(sfn, machine)
    assert started["app-run-42"]["import_id"] == "app-run-42"
    (derived,) = set(started) - {"app-run-42"}
    assert len(derived) == 32 and derived.isalnum()


def test_invalid_messages_are_reported_and_the_rest_still_start(
    sfn: Any, machine: str, settings: Settings
) -> None:
    event = sqs_event(
        ("bad-json", "{not json"),
        ("no-steam", body(user_id="u1")),
        ("empty-user", body(user_id="", steam_id64=STEAM_ID)),
        ("good", body(user_id="u3", steam_id64=STEAM_ID)),
    )
    result = handler(event, CONTEXT, client=sfn, settings=settings)
    assert [item["itemIdentifier"] for item in result["batchItemFailures"]] == [
        "bad-json",
        "no-steam",
        "empty-user",
    ]
    assert [value["user_id"] for value in executions(sfn, machine).values()] == ["u3"]


def test_messages_that_cannot_be_started_are_returned_to_the_queue(
    sfn: Any, machine: str, captured_logs: list[dict[str, Any]]
) -> None:
    missing = Settings(state_machine_arn=machine + "-gone")
    event = sqs_event(
        ("m-1", body(user_id="u1", steam_id64=STEAM_ID)),
        ("m-2", body(user_id="u2", steam_id64=STEAM_ID)),
    )
    result = handler(event, CONTEXT, client=sfn, settings=missing)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]}
    failures = [log for log in captured_logs if log["event"] == "start_import.start_failed"]
    assert {log["aws_error"] for log in failures} == {"StateMachineDoesNotExist"}
    summary = next(log for log in captured_logs if log["event"] == "start_import.finished")
    assert summary["received"] == 2 and summary["failed"] == 2


def test_an_unreachable_service_is_reported_per_message() -> None:
    sfn = aws_client("stepfunctions", "http://127.0.0.1:9")  # nothing listens on the discard port
    settings = Settings(
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:import"
    )
    event = sqs_event(("m-1", body(user_id="u1", steam_id64=STEAM_ID)))
    result = handler(event, CONTEXT, client=sfn, settings=settings)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_a_recorded_sqs_batch_starts_one_execution_per_message(
    sfn: Any, machine: str, settings: Settings
) -> None:
    event = load_event("sqs_start_import")
    assert handler(event, CONTEXT, client=sfn, settings=settings) == {"batchItemFailures": []}
    started = executions(sfn, machine)
    assert started["manual-2026-12-02"]["steam_id64"] == "gabelogannewell"
    assert sorted(value["user_id"] for value in started.values()) == ["u1", "u2"]


@pytest.mark.parametrize(
    "event", [{"Records": [{"body": "{}"}]}, {"Records": "not a list"}, ["not", "a", "batch"]]
)
def test_an_event_that_is_no_sqs_batch_is_invalid(sfn: Any, settings: Settings, event: Any) -> None:
    with pytest.raises(InvalidEventError, match="not an SQS batch"):
        handler(event, CONTEXT, client=sfn, settings=settings)
    assert sfn.list_executions(stateMachineArn=settings.state_machine_arn)["executions"] == []


def test_without_a_state_machine_the_whole_batch_fails(sfn: Any) -> None:
    with pytest.raises(ConfigurationError, match="STATE_MACHINE_ARN"):
        handler(sqs_event(), CONTEXT, client=sfn, settings=Settings())


@pytest.mark.parametrize(
    ("import_id", "message_id", "expected"),
    [
        ("kept_as-is-1", "m", "kept_as-is-1"),
        (None, "m-1", None),
        ("with space", "m-1", None),
        ("ümlaut", "m-1", None),
    ],
)
def test_execution_names_are_valid_and_stable(
    import_id: str | None, message_id: str, expected: str | None
) -> None:

    request = SteamImportEvent(user_id="u1", steam_id64=STEAM_ID, import_id=import_id)
    name = execution_name(request, message_id=message_id)
    assert name == execution_name(request, message_id=message_id)
    if expected is not None:
        assert name == expected
    else:
        assert len(name) == 32 and all(ch in "0123456789abcdef" for ch in name)
    other_user = request.model_copy(update={"user_id": "u2"})
    if expected is None:  # a derived name depends on who asked, so two users never collide
        assert execution_name(other_user, message_id=message_id) != name


def test_the_default_client_is_made_on_first_use_and_kept() -> None:
    from lambdas.handlers.start_import import _stepfunctions_client

    assert _stepfunctions_client("us-east-1") is _stepfunctions_client("us-east-1")
