"""The three stage handlers on recorded Step Functions events, with injected Settings: one runner,
one stage vocabulary, the response contract, and the invocation's log context."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from tests.events import FakeLambdaContext, load_event

import lambdas.logging
from lambdas.config import Settings
from lambdas.handlers import database_import, igdb_enrichment, steam_import
from lambdas.logging import configure_logging
from lambdas.models.events import Stage, StageResponse
from lambdas.stages import STAGES

HANDLERS = {
    Stage.STEAM: steam_import.handler,
    Stage.ENRICH: igdb_enrichment.handler,
    Stage.LOAD: database_import.handler,
}
CONTEXT = FakeLambdaContext(aws_request_id="req-42", function_name="igdb-enrichment")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def test_one_vocabulary_names_handlers_modules_and_specs() -> None:
    assert [spec.stage for spec in STAGES] == list(Stage)
    for stage, handler in HANDLERS.items():
        assert handler.__module__ == f"lambdas.handlers.{stage.handler_name}"


def test_a_recorded_event_whose_csv_is_not_stored_is_a_permanent_failure(
    settings: Settings,
) -> None:
    # Stage 2 only: stage 3 loads SQLAlchemy first, too slow for a unit test of the runner.
    stage = Stage.ENRICH
    event = load_event(stage.handler_name)
    response = HANDLERS[stage](event, CONTEXT, settings=settings)
    spec = next(spec for spec in STAGES if spec.stage is stage)
    parsed: StageResponse = spec.response_model.model_validate(response)
    assert parsed.success is False
    assert parsed.error_code == "FORBIDDEN_LOCATION"  # an s3:// location, but no bucket is set
    assert (parsed.user_id, parsed.import_id) == (event["user_id"], event["import_id"])


@pytest.mark.parametrize("stage", list(Stage))
def test_an_invalid_event_names_its_handler_and_field(stage: Stage, settings: Settings) -> None:
    event = {
        key: value for key, value in load_event(stage.handler_name).items() if key != "user_id"
    }
    response = HANDLERS[stage](event, CONTEXT, settings=settings)
    assert response["error_code"] == "INVALID_EVENT"
    assert response["error"].startswith(f"the {stage.handler_name} event is invalid: user_id")


def test_log_lines_carry_the_invocation(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lambdas.logging, "_cold_start", True)  # a fresh container
    stream = io.StringIO()
    configure_logging(log_format="json", stream=stream)
    event = load_event("igdb_enrichment")
    for _ in range(2):
        igdb_enrichment.handler(event, CONTEXT, settings=settings)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failures = [line for line in lines if line["event"] == "stage.failed"]
    assert [line["cold_start"] for line in failures] == [True, False]
    for line in failures:
        assert line["function_name"] == "igdb-enrichment"
        assert line["aws_request_id"] == "req-42"
        assert line["stage"] == "igdb_enrichment"
        assert line["import_id"] == event["import_id"]


class _Running(FakeLambdaContext):
    """A context whose invocation has `left` seconds before Lambda stops it."""

    def __init__(self, left: float) -> None:
        super().__init__()
        object.__setattr__(self, "left", left)

    def get_remaining_time_in_millis(self) -> int:
        return int(self.left * 1000)  # type: ignore[attr-defined]


def test_a_stage_ends_typed_before_lambda_stops_it(settings: Settings) -> None:
    """With 16.5 s left of the invocation, the stage's budget is what is left less the 15 s
    margin: a Steam that never answers ends in a retryable error naming the budget, although one
    attempt alone may last 60 s here."""
    from pydantic import SecretStr
    from tests.reliability.stalls import HttpFault, never_answers

    from lambdas.errors import UpstreamUnavailableError

    with HttpFault(never_answers) as server:
        bounded = settings.model_copy(
            update={
                "steam_api_key": SecretStr("k" * 32),
                "steam_api_base_url": server.url,
                "http_read_timeout": 60.0,
                "http_attempt_timeout": 60.0,
            }
        )
        with pytest.raises(UpstreamUnavailableError, match="STAGE_TIME_BUDGET_SECONDS"):
            steam_import.handler(load_event("steam_import"), _Running(16.5), settings=bounded)
