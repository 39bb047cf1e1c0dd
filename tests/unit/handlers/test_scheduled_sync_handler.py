"""The scheduled sync against moto's SQS server, and through the starter into Step Functions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
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
from lambdas.database.schema import upgrade
from lambdas.database.users import connect_steam, ensure_user
from lambdas.errors import ConfigurationError, UpstreamUnavailableError
from lambdas.handlers import start_import
from lambdas.handlers.scheduled_sync import handler, sync_import_id
from lambdas.models.events import SteamImportEvent
from lambdas.stages import engine_for

SCHEDULED = {"scheduled_time": "2025-03-04T05:00:00Z"}
CONTEXT = FakeLambdaContext()


@pytest.fixture
def sqs(s3_server: str) -> Any:
    return aws_client("sqs", s3_server)


@pytest.fixture
def queue(sqs: Any, request: pytest.FixtureRequest) -> str:
    url: str = sqs.create_queue(QueueName=resource_name(request.node.name))["QueueUrl"]
    return url


def users(count: int) -> list[SteamImportEvent]:
    return [
        SteamImportEvent(user_id=f"user{index}", steam_id64=str(76561197960265728 + index))
        for index in range(count)
    ]


class Lister:
    """A stand-in for `lambdas.sync.service.list_sync_requests`, recording its calls."""

    def __init__(self, requests: Sequence[SteamImportEvent]) -> None:
        self.requests = list(requests)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, *, settings: Settings) -> list[SteamImportEvent]:
        self.calls.append({"settings": settings})
        return self.requests


def drain(sqs: Any, queue: str) -> list[dict[str, Any]]:
    """Every message in the queue, removed, as SQS → Lambda records would carry them."""
    received: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return received
        received.extend(batch)
        sqs.delete_message_batch(
            QueueUrl=queue,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)
            ],
        )


def test_one_message_per_user_with_an_import_id_per_day(sqs: Any, queue: str) -> None:
    lister = Lister(users(23))  # three SendMessageBatch calls: 10 + 10 + 3
    settings = Settings(import_queue_url=queue)

    summary = handler(SCHEDULED, CONTEXT, client=sqs, settings=settings, list_requests=lister)

    assert summary == {"users": 23, "queued": 23, "failed": 0, "deferred": 0}
    assert lister.calls == [{"settings": settings}]
    bodies = [SteamImportEvent.model_validate_json(m["Body"]) for m in drain(sqs, queue)]
    assert sorted(b.user_id for b in bodies) == sorted(r.user_id for r in lister.requests)
    for request in bodies:
        assert request.import_id == sync_import_id(request.user_id, day="20250304")
        assert request.import_id.startswith("sync-20250304-")


def test_a_request_that_brings_its_own_import_id_keeps_it(sqs: Any, queue: str) -> None:
    lister = Lister([SteamImportEvent(user_id="u1", steam_id64="gabe", import_id="chosen")])
    handler(
        SCHEDULED,
        CONTEXT,
        client=sqs,
        settings=Settings(import_queue_url=queue),
        list_requests=lister,
    )
    (message,) = drain(sqs, queue)
    assert json.loads(message["Body"]) == {
        "user_id": "u1",
        "steam_id64": "gabe",
        "import_id": "chosen",
        "refresh_metadata": False,
    }


def test_a_retried_schedule_starts_each_import_once(sqs: Any, queue: str, s3_server: str) -> None:
    sfn = aws_client("stepfunctions", s3_server)
    machine = create_import_state_machine(sfn, name="sync-retried")
    lister = Lister(users(12))
    settings = Settings(import_queue_url=queue, state_machine_arn=machine)

    handler(SCHEDULED, CONTEXT, client=sqs, settings=settings, list_requests=lister)
    handler(SCHEDULED, CONTEXT, client=sqs, settings=settings, list_requests=lister)  # a retry
    messages = drain(sqs, queue)
    assert len(messages) == 24
    for start in range(0, len(messages), 10):
        batch = sqs_event(*((m["MessageId"], m["Body"]) for m in messages[start : start + 10]))
        result = start_import.handler(batch, CONTEXT, client=sfn, settings=settings)
        assert result == {"batchItemFailures": []}

    names = {e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]}
    assert names == {sync_import_id(r.user_id, day="20250304") for r in lister.requests}


def test_the_recorded_scheduler_event_names_the_day_of_the_schedule(sqs: Any, queue: str) -> None:
    lister = Lister(users(2))
    settings = Settings(import_queue_url=queue)
    handler(
        load_event("scheduled_sync"), CONTEXT, client=sqs, settings=settings, list_requests=lister
    )
    ids = {json.loads(message["Body"])["import_id"] for message in drain(sqs, queue)}
    assert ids == {sync_import_id(request.user_id, day="20261202") for request in lister.requests}


def test_no_users_sends_nothing(sqs: Any, queue: str) -> None:
    summary = handler(
        {}, CONTEXT, client=sqs, settings=Settings(import_queue_url=queue), list_requests=Lister([])
    )
    assert summary == {"users": 0, "queued": 0, "failed": 0, "deferred": 0}
    assert drain(sqs, queue) == []


@pytest.mark.parametrize("event", [{}, {"scheduled_time": "not a time"}, None])
def test_without_a_schedule_time_today_is_used(sqs: Any, queue: str, event: Any) -> None:
    handler(
        event,
        CONTEXT,
        client=sqs,
        settings=Settings(import_queue_url=queue),
        list_requests=Lister(users(1)),
    )
    (message,) = drain(sqs, queue)
    import_id = json.loads(message["Body"])["import_id"]
    assert import_id.startswith("sync-20") and len(import_id) == len("sync-20250304-") + 16


def test_requests_sqs_refuses_make_the_run_fail_after_sending_the_rest(
    sqs: Any, queue: str, captured_logs: list[dict[str, Any]]
) -> None:
    gone = queue + "-gone"
    with pytest.raises(UpstreamUnavailableError, match="12 of 12"):
        handler(
            SCHEDULED,
            CONTEXT,
            client=sqs,
            settings=Settings(import_queue_url=gone),
            list_requests=Lister(users(12)),
        )
    assert [
        log["messages"] for log in captured_logs if log["event"] == "scheduled_sync.batch_failed"
    ] == [
        10,
        2,
    ]


def test_without_a_queue_nothing_is_listed(sqs: Any) -> None:
    lister = Lister(users(1))
    with pytest.raises(ConfigurationError, match="IMPORT_QUEUE_URL"):
        handler(SCHEDULED, CONTEXT, client=sqs, settings=Settings(), list_requests=lister)
    assert lister.calls == []


@pytest.mark.parametrize(
    ("user_id", "day"), [("u1", "20250304"), ("a" * 128, "20991231"), ("x-y_z", "20250101")]
)
def test_sync_import_ids_are_valid_execution_names(user_id: str, day: str) -> None:
    import_id = sync_import_id(user_id, day=day)
    request = SteamImportEvent(user_id=user_id, steam_id64="1", import_id=import_id)
    assert start_import.execution_name(request, message_id="any") == import_id
    assert import_id != sync_import_id(user_id + "0", day=day)
    assert import_id != sync_import_id(user_id, day="19990101")


def test_by_default_the_users_come_from_the_database(sqs: Any, queue: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    engine = engine_for(url)
    for user_id in ("alice", "bob", "carol"):
        ensure_user(engine, user_id=user_id, create=True)
    connect_steam(engine, user_id="alice", steam_id64="76561197960287930")
    connect_steam(engine, user_id="carol", steam_id64="76561197960287931")
    settings = Settings(import_queue_url=queue, database_url=url)

    assert handler(SCHEDULED, CONTEXT, client=sqs, settings=settings)["users"] == 2

    bodies = sorted(json.loads(m["Body"])["user_id"] for m in drain(sqs, queue))
    assert bodies == ["alice", "carol"]  # bob has no Steam account connected


def test_the_default_client_is_made_on_first_use_and_kept() -> None:
    from lambdas.handlers.scheduled_sync import _sqs_client

    assert _sqs_client("us-east-1") is _sqs_client("us-east-1")


# --- The Steam key's daily budget, and users spread over the day --------------------------------


def test_a_run_schedules_no_more_steam_calls_than_the_budget_allows(
    sqs: Any, queue: str, captured_logs: list[dict[str, Any]]
) -> None:
    lister = Lister(users(40))
    settings = Settings(import_queue_url=queue, steam_daily_call_budget=50)  # 25 imports

    summary = handler(SCHEDULED, CONTEXT, client=sqs, settings=settings, list_requests=lister)

    assert summary == {"users": 40, "queued": 25, "failed": 0, "deferred": 15}
    assert len(drain(sqs, queue)) == 25
    (refusal,) = [log for log in captured_logs if log["event"] == "scheduled_sync.over_budget"]
    assert refusal["deferred"] == 15 and refusal["log_level"] == "warning"
    assert "80 Steam calls" in refusal["reason"] and "budget is 50" in refusal["reason"]


def test_the_users_left_out_by_the_budget_change_from_day_to_day(sqs: Any, queue: str) -> None:
    lister = Lister(users(40))
    settings = Settings(import_queue_url=queue, steam_daily_call_budget=40)
    picked = []
    for day in ("2025-03-04", "2025-03-05"):
        handler(
            {"scheduled_time": f"{day}T05:00:00Z"},
            CONTEXT,
            client=sqs,
            settings=settings,
            list_requests=lister,
        )
        picked.append({json.loads(m["Body"])["user_id"] for m in drain(sqs, queue)})
    assert len(picked[0]) == len(picked[1]) == 20
    assert picked[0] != picked[1]


def test_runs_through_the_day_each_sync_their_own_users_and_together_all(
    sqs: Any, queue: str
) -> None:
    lister = Lister(users(200))
    settings = Settings(import_queue_url=queue, sync_runs_per_day=24)
    seen: list[str] = []
    for hour in range(24):
        summary = handler(
            {"scheduled_time": f"2025-03-04T{hour:02d}:00:00Z"},
            CONTEXT,
            client=sqs,
            settings=settings,
            list_requests=lister,
        )
        sent = [json.loads(m["Body"])["user_id"] for m in drain(sqs, queue)]
        assert summary["queued"] == len(sent) < 40  # about 200 / 24 per run
        seen.extend(sent)
    assert sorted(seen) == sorted(request.user_id for request in lister.requests)


def test_runs_per_day_must_divide_the_day() -> None:
    with pytest.raises(ValueError, match="divide the day"):
        Settings(sync_runs_per_day=7)
