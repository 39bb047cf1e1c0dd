"""The import state machine agrees with the code: functions, exception names, error codes, paths."""

from __future__ import annotations

import importlib
import json
import re
from collections import deque
from typing import Any

import pytest
from pydantic import BaseModel
from tests.unit.infra.documents import (
    STAGE_MODELS,
    definition,
    function_of_task,
    functions,
    stage_tasks,
    state_machine,
    states,
)

from lambdas import errors
from lambdas.models.events import SteamImportEvent

TRANSIENT = {cls.__name__: cls for cls in errors.all_error_types() if cls.transient}
PERMANENT = {cls.__name__ for cls in errors.all_error_types() if not cls.transient}
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.TooManyRequestsException",
    "Lambda.Unknown",
}
STATES_ERRORS = {"States.ALL", "States.TaskFailed", "States.Timeout", "States.Runtime"}
CONTEXT_PATHS = {"$$.Execution.Name", "$$.Execution.Id", "$$.Execution.StartTime"}
STAGE_ORDER = [
    "lambdas.handlers.steam_import.handler",
    "lambdas.handlers.igdb_enrichment.handler",
    "lambdas.handlers.database_import.handler",
]


def handler_of(state: dict[str, Any]) -> str:
    return str(functions()[function_of_task(state)]["Handler"])


def conditions(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparisons of one Choice rule, `And` rules opened."""
    return (
        [leaf for inner in rule["And"] for leaf in conditions(inner)] if "And" in rule else [rule]
    )


def success_rule(state: dict[str, Any]) -> dict[str, Any]:
    """The Choice rule that sends a successful stage on (the others test more than success)."""
    (rule,) = [rule for rule in state["Choices"] if rule.get("Variable", "").endswith(".success")]
    return rule


def targets(state: dict[str, Any]) -> list[str]:
    found = [state[key] for key in ("Next", "Default") if key in state]
    found += [choice["Next"] for choice in state.get("Choices", [])]
    found += [catcher["Next"] for catcher in state.get("Catch", [])]
    return found


# --- Tasks and functions -----------------------------------------------------------------------


def test_every_task_invokes_a_function_of_the_template_that_runs_a_stage_handler() -> None:
    tasks = stage_tasks()
    assert tasks, "the machine runs no function"
    for name, state in tasks.items():
        handler = handler_of(state)
        assert handler in STAGE_MODELS, f"{name} runs {handler}, not a stage"
        module, _, attribute = handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute))


def test_substitutions_and_placeholders_match() -> None:
    text = json.dumps(definition())
    used = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text))
    assert used == set(state_machine()["DefinitionSubstitutions"])


def test_the_success_path_runs_the_three_stages_in_order_then_publishes() -> None:
    order: list[str] = []
    name = definition()["StartAt"]
    while states()[name]["Type"] != "Succeed":
        state = states()[name]
        if state["Type"] == "Choice":
            rule = success_rule(state)
            assert rule["BooleanEquals"] is True
            name = rule["Next"]
            continue
        if name in stage_tasks():
            order.append(handler_of(state))
        else:
            order.append(state["Parameters"]["Entries"][0]["DetailType"])
        name = state["Next"]
    assert order == [*STAGE_ORDER, "Steam Import Completed"]


# --- Errors ------------------------------------------------------------------------------------


def all_error_names(state: dict[str, Any]) -> list[str]:
    return [
        error
        for block in state.get("Retry", []) + state.get("Catch", [])
        for error in block["ErrorEquals"]
    ]


def test_retry_and_catch_name_only_errors_that_exist() -> None:
    known = set(TRANSIENT) | LAMBDA_SERVICE_ERRORS | STATES_ERRORS
    for name, state in states().items():
        for error in all_error_names(state):
            assert error in known, f"{name} names {error!r}, which nothing raises"
            assert error not in PERMANENT, f"{name} retries {error}, which is returned, not raised"


def test_stage_tasks_retry_transient_errors_and_lambda_service_errors_and_catch_the_rest() -> None:
    retried: set[str] = set()
    for name, state in stage_tasks().items():
        names = {error for block in state["Retry"] for error in block["ErrorEquals"]}
        assert {"Lambda.ServiceException", "Lambda.TooManyRequestsException"} <= names, name
        assert "States.ALL" not in names, f"{name} would retry permanent failures"
        retried |= names
        for block in state["Retry"]:
            assert 1 <= block["MaxAttempts"] <= 12 and block["BackoffRate"] >= 1, name
        assert state["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name
    assert set(TRANSIENT) <= retried, f"never retried: {set(TRANSIENT) - retried}"


def test_every_raised_error_gets_its_own_error_code() -> None:
    (classifier,) = [
        state
        for state in states().values()
        if state["Type"] == "Choice"
        and any(rule.get("Variable") == "$.failure.error_type" for rule in state["Choices"])
    ]
    mapped = {}
    for rule in classifier["Choices"]:
        code_state = states()[rule["Next"]]
        assert code_state["ResultPath"] == "$.failure.error_code"
        mapped[rule["StringEquals"]] = code_state["Result"]
    assert mapped == {name: cls.code for name, cls in TRANSIENT.items()}
    fallback = states()[classifier["Default"]]
    assert fallback["Result"] == "UNHANDLED_ERROR"
    assert fallback["Result"] not in {cls.code for cls in errors.all_error_types()}


def test_every_failure_reaches_the_failed_event() -> None:
    failure_entries = [
        name
        for name, state in states().items()
        if state["Type"] == "Pass" and state.get("ResultPath") == "$.failure"
    ]
    assert len(failure_entries) == 2 * len(stage_tasks())  # rejected and raised, per stage
    for name in failure_entries:
        keys = {key.removesuffix(".$") for key in states()[name]["Parameters"]}
        assert keys >= {"stage", "error"}, name
        reached = reachable_from(name)
        assert "PublishFailed" in reached and "ImportSucceeded" not in reached, name


# --- Transitions -------------------------------------------------------------------------------


def reachable_from(start: str) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        for target in targets(states()[queue.popleft()]):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def test_every_transition_has_a_target_and_every_state_is_reachable() -> None:
    for name, state in states().items():
        for target in targets(state):
            assert target in states(), f"{name} → {target}, which does not exist"
        terminal = state["Type"] in {"Succeed", "Fail"} or state.get("End") is True
        assert terminal or "Next" in state or state["Type"] == "Choice", f"{name} goes nowhere"
    assert reachable_from(definition()["StartAt"]) == set(states())


# --- Payload paths -----------------------------------------------------------------------------


def model_shape(model: type[BaseModel]) -> dict[str, Any]:
    """Field names of a model, nested models expanded; other values are leaves (None)."""
    shape: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        nested = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        shape[name] = model_shape(annotation) if nested else None  # type: ignore[arg-type]
    return shape


def state_data_shape() -> dict[str, Any]:
    """Everything the machine's data may hold: the request, each stage's response, failures."""
    shape = model_shape(SteamImportEvent)
    for state in stage_tasks().values():
        _, response = STAGE_MODELS[handler_of(state)]
        shape[state["ResultPath"].removeprefix("$.")] = model_shape(response)
    shape["caught"] = {"Error": None, "Cause": None}
    failure: dict[str, Any] = {}
    for state in states().values():
        if state["Type"] == "Pass" and state.get("ResultPath") == "$.failure":
            failure.update({key.removesuffix(".$"): None for key in state["Parameters"]})
        elif state["Type"] == "Pass" and state.get("ResultPath", "").startswith("$.failure."):
            failure[state["ResultPath"].removeprefix("$.failure.")] = None
    shape["failure"] = failure
    return shape


def resolves(path: str, shape: dict[str, Any]) -> bool:
    if path == "$":
        return True
    node: Any = shape
    for part in path.removeprefix("$.").split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def paths_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [
            item for key, item in value.items() if key.endswith(".$") and isinstance(item, str)
        ]
        return found + [path for item in value.values() for path in paths_in(item)]
    if isinstance(value, list):
        return [path for item in value for path in paths_in(item)]
    return []


def test_every_path_names_a_field_of_the_models() -> None:
    shape = state_data_shape()
    for name, state in states().items():
        used = paths_in(state.get("Parameters", {})) + paths_in(state.get("ResultSelector", {}))
        used += [leaf["Variable"] for rule in state.get("Choices", []) for leaf in conditions(rule)]
        used += [state[key] for key in ("InputPath", "ErrorPath", "CausePath") if key in state]
        for path in used:
            if path.startswith("$$."):
                assert path in CONTEXT_PATHS, f"{name}: unknown context path {path}"
            else:
                assert resolves(path, shape), f"{name}: {path} is no field of the models"


def test_each_stage_gets_the_previous_response_which_is_a_valid_event() -> None:
    produced: dict[str, type[BaseModel]] = {"$": SteamImportEvent}
    for handler in STAGE_ORDER:
        (state,) = [s for s in stage_tasks().values() if handler_of(s) == handler]
        event_model, response_model = STAGE_MODELS[handler]
        given = produced[state.get("InputPath", "$")]
        missing = set(event_model.model_fields) - set(given.model_fields)
        assert not missing, f"{handler} needs {missing}, which {given.__name__} does not carry"
        produced[state["ResultPath"]] = response_model
    for state in stage_tasks().values():
        choice = states()[state["Next"]]
        assert success_rule(choice)["Variable"] == f"{state['ResultPath']}.success"


def test_a_stage_that_finds_nothing_to_do_skips_the_later_ones_with_their_answers() -> None:
    """After stages 1 and 2, a successful `unchanged` answer leads, through Pass states that
    write the skipped stages' responses where they would be, to the completion event."""
    skipped: list[str] = []
    for state in stage_tasks().values():
        if handler_of(state) == STAGE_ORDER[-1]:
            continue
        choice = states()[state["Next"]]
        (rule,) = [rule for rule in choice["Choices"] if "And" in rule]
        variables = {leaf["Variable"]: leaf["BooleanEquals"] for leaf in conditions(rule)}
        prefix = state["ResultPath"]
        assert variables == {f"{prefix}.success": True, f"{prefix}.unchanged": True}
        assert choice["Choices"].index(rule) < choice["Choices"].index(success_rule(choice))
        name = rule["Next"]
        while name != "PublishCompleted":
            skip = states()[name]
            assert skip["Type"] == "Pass", name
            skipped.append(skip["ResultPath"])
            (task,) = [t for t in stage_tasks().values() if t["ResultPath"] == skip["ResultPath"]]
            _, response = STAGE_MODELS[handler_of(task)]
            keys = {key.removesuffix(".$") for key in skip["Parameters"]}
            assert keys <= set(response.model_fields), name
            assert skip["Parameters"]["success"] is True and skip["Parameters"]["unchanged"]
            name = skip["Next"]
    assert skipped == ["$.enrichment", "$.database", "$.database"]


def test_the_completion_event_carries_every_stage_s_stats() -> None:
    detail = states()["PublishCompleted"]["Parameters"]["Entries"][0]["Detail"]
    sources = set(detail.values())
    for state in stage_tasks().values():
        _, response = STAGE_MODELS[handler_of(state)]
        if "stats" in response.model_fields:
            assert f"{state['ResultPath']}.stats" in sources
    failed = states()["PublishFailed"]["Parameters"]["Entries"][0]
    assert failed["DetailType"] == "Steam Import Failed"
    assert "$.failure.error_code" in failed["Detail"].values()


# --- The definition as AWS validates it --------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_cfn_lint_accepts_the_definition() -> None:
    """cfn-lint cannot read a SAM DefinitionUri, so the definition is linted inline here."""
    inline = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/import",
                    "Definition": definition(),
                    "DefinitionSubstitutions": {
                        key: "arn:aws:lambda:us-east-1:123456789012:function:f"
                        for key in state_machine()["DefinitionSubstitutions"]
                    },
                },
            }
        },
    }
    from cfnlint import api as cfn_lint  # here: a second of import that collection need not pay

    problems = [
        str(match) for match in cfn_lint.lint_all(json.dumps(inline)) if match.rule.id[0] in "EW"
    ]
    assert problems == []
