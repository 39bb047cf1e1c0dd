"""The sync batch state machine (infra/statemachine/sync.asl.json) agrees with the template and
the code: the functions and state machine it runs, the error names it retries and catches, its
transitions, its paths, and the size of what it carries."""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from cfnlint import api as cfn_lint
from tests.unit.infra.documents import (
    IMPORT_MACHINE,
    SYNC_MACHINE,
    definition,
    function_of_task,
    functions,
    state_machine,
)
from tests.unit.infra.test_state_machine import (
    LAMBDA_SERVICE_ERRORS,
    PERMANENT,
    STATES_ERRORS,
    TRANSIENT,
    model_shape,
    resolves,
)

from lambdas.handlers.scheduled_sync import MAX_BATCH_INPUT_BYTES, batch_input
from lambdas.models.events import (
    BatchUser,
    EnrichmentStats,
    SharedPrefetchEvent,
    SharedPrefetchResponse,
    SteamImportEvent,
)

START_EXECUTION_SYNC = "arn:aws:states:::states:startExecution.sync:2"
#: What each Lambda Task of the batch runs, by state name.
INTENDED_HANDLERS = {
    "SteamImport": "lambdas.handlers.steam_import.handler",
    "Prefetch": "lambdas.handlers.shared_prefetch.handler",
}
STATE_LIMIT_BYTES = 256 * 1024  # Step Functions' largest input or output of a state
ERROR_CAUSE_CHARACTERS = 32_768  # the longest `Cause` a caught error brings into the state


def stepfunctions_errors() -> set[str]:
    """The names Step Functions gives the errors of `startExecution.sync:2`: `StepFunctions.`
    and the SDK's exception class (the API's error code, with `Exception` unless it has it)."""
    model = botocore.session.get_session().get_service_model("stepfunctions")
    codes = {
        shape.name
        for operation in ("StartExecution", "DescribeExecution", "StopExecution")
        for shape in model.operation_model(operation).error_shapes
    }
    classes = {code if code.endswith("Exception") else f"{code}Exception" for code in codes}
    classes |= {"SdkClientException", "AWSStepFunctionsException"}
    return {f"StepFunctions.{name}" for name in classes}


def all_states(
    states: dict[str, dict[str, Any]] | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, those inside the Maps' item processors included."""
    for name, state in (definition(SYNC_MACHINE)["States"] if states is None else states).items():
        yield name, state
        if state["Type"] == "Map":
            yield from all_states(state["ItemProcessor"]["States"])


def state(name: str) -> dict[str, Any]:
    (found,) = [found for state_name, found in all_states() if state_name == name]
    return found


def lambda_tasks() -> dict[str, dict[str, Any]]:
    return {
        name: found
        for name, found in all_states()
        if found["Type"] == "Task" and found["Resource"].startswith("${")
    }


def targets(found: dict[str, Any]) -> list[str]:
    names = [found[key] for key in ("Next", "Default") if key in found]
    names += [choice["Next"] for choice in found.get("Choices", [])]
    names += [catcher["Next"] for catcher in found.get("Catch", [])]
    return names


def reachable(states: dict[str, dict[str, Any]], start: str) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        for target in targets(states[queue.popleft()]):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def scopes() -> Iterator[tuple[str, dict[str, Any]]]:
    """The machine and each Map's item processor: each has its own StartAt and States."""
    yield "the machine", definition(SYNC_MACHINE)
    for name, found in all_states():
        if found["Type"] == "Map":
            yield name, found["ItemProcessor"]


# --- Tasks, functions and the nested machine -----------------------------------------------------


def test_substitutions_and_placeholders_match() -> None:
    used = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", json.dumps(definition(SYNC_MACHINE))))
    assert used == set(state_machine(SYNC_MACHINE)["DefinitionSubstitutions"])


def test_each_lambda_task_invokes_the_intended_handler_through_the_template() -> None:
    invoked = {
        name: functions()[function_of_task(found, SYNC_MACHINE)]["Handler"]
        for name, found in lambda_tasks().items()
    }
    assert invoked == INTENDED_HANDLERS


def test_each_user_s_import_is_an_execution_of_the_import_machine_named_after_its_import_id() -> (
    None
):
    (name,) = [
        name for name, found in all_states() if found.get("Resource") == START_EXECUTION_SYNC
    ]
    parameters = state(name)["Parameters"]
    placeholder = parameters["StateMachineArn"]
    assert placeholder.startswith("${") and placeholder.endswith("}")
    substitutions = state_machine(SYNC_MACHINE)["DefinitionSubstitutions"]
    assert substitutions[placeholder[2:-1]] == {"Ref": IMPORT_MACHINE}
    assert parameters["Name.$"] == "$.import_id"
    assert parameters["Input.$"] == "$"  # the batch's item is the import machine's input


def test_the_machine_may_run_exactly_what_it_names() -> None:
    policies = state_machine(SYNC_MACHINE)["Policies"]
    invoked = {
        policy["LambdaInvokePolicy"]["FunctionName"]["Ref"]
        for policy in policies
        if "LambdaInvokePolicy" in policy
    }
    assert invoked == {function_of_task(found, SYNC_MACHINE) for found in lambda_tasks().values()}
    (started,) = [policy for policy in policies if "StepFunctionsExecutionPolicy" in policy]
    assert started["StepFunctionsExecutionPolicy"]["StateMachineName"] == {
        "Fn::GetAtt": [IMPORT_MACHINE, "Name"]
    }


def test_the_scheduler_starts_this_machine_with_items_the_import_machine_accepts() -> None:
    sync = functions()["ScheduledSyncFunction"]
    assert sync["Environment"]["Variables"]["SYNC_STATE_MACHINE_ARN"] == {"Ref": SYNC_MACHINE}
    user = SteamImportEvent(user_id="u1", steam_id64="76561197960287930", import_id="sync-1-a")
    batch = json.loads(batch_input([user]))
    for name, found in all_states():
        if found["Type"] == "Map":
            assert found["ItemsPath"] == "$.users", name
    (item,) = batch["users"]
    assert SteamImportEvent.model_validate(item) == user  # stage 1's event, in both Maps
    assert BatchUser.model_validate(item).import_id == user.import_id  # the execution's name
    parameters = state("Prefetch")["Parameters"]
    assert parameters == {"users.$": "$.users"}
    SharedPrefetchEvent.model_validate(batch)


# --- Errors --------------------------------------------------------------------------------------


def error_names(found: dict[str, Any], key: str) -> list[str]:
    return [error for block in found.get(key, []) for error in block["ErrorEquals"]]


def test_retry_and_catch_name_only_errors_that_exist() -> None:
    """Transient error classes (raised by our handlers), Lambda's and Step Functions' own
    service errors, and the States.* names: a misspelt name would never match."""
    known = set(TRANSIENT) | LAMBDA_SERVICE_ERRORS | STATES_ERRORS | stepfunctions_errors()
    for name, found in all_states():
        for error in error_names(found, "Retry") + error_names(found, "Catch"):
            assert error in known, f"{name} names {error!r}, which nothing raises"
            assert error not in PERMANENT, f"{name} retries {error}, which is returned, not raised"


def test_retries_are_for_transient_errors_and_bounded() -> None:
    for name, found in all_states():
        retried = error_names(found, "Retry")
        assert "States.ALL" not in retried, f"{name} would retry permanent failures"
        assert not set(retried) & {"StepFunctions.ExecutionAlreadyExistsException"}, name
        for block in found.get("Retry", []):
            assert 1 <= block["MaxAttempts"] <= 12 and block["BackoffRate"] >= 1, name


def test_stage_one_retries_as_the_import_machine_does() -> None:
    imports = definition(IMPORT_MACHINE)["States"]["SteamImport"]
    assert state("SteamImport")["Retry"] == imports["Retry"]


def test_one_user_s_failure_or_the_prefetch_s_never_fails_the_batch() -> None:
    """Every Task catches everything and goes on; an import that already exists is told apart."""
    for name, found in all_states():
        if found["Type"] == "Task":
            assert found["Catch"][-1]["ErrorEquals"] == ["States.ALL"], name
    assert state("Prefetch")["Catch"][-1]["Next"] == state("Prefetch")["Next"]
    (import_user,) = [
        found
        for found in (state(n) for n, _ in all_states())
        if found.get("Resource") == START_EXECUTION_SYNC
    ]
    first, last = import_user["Catch"]
    assert first["ErrorEquals"] == ["StepFunctions.ExecutionAlreadyExistsException"]
    assert state(first["Next"])["Type"] == state(last["Next"])["Type"] == "Pass"
    assert {"Fail"} & {found["Type"] for _, found in all_states()} == set()


# --- Transitions ---------------------------------------------------------------------------------


def test_every_transition_has_a_target_and_every_state_is_reachable() -> None:
    for scope, document in scopes():
        states = document["States"]
        for name, found in states.items():
            for target in targets(found):
                assert target in states, f"{scope}: {name} → {target}, which does not exist"
            terminal = found["Type"] in {"Succeed", "Fail"} or found.get("End") is True
            assert terminal or "Next" in found or found["Type"] == "Choice", name
        assert reachable(states, document["StartAt"]) == set(states), scope


def test_the_batch_fetches_then_looks_up_once_then_imports() -> None:
    document = definition(SYNC_MACHINE)
    order, name = [], document["StartAt"]
    while document["States"][name]["Type"] != "Succeed":
        order.append(name)
        name = document["States"][name]["Next"]
    assert order == ["FetchSteam", "Prefetch", "ImportEach"]
    assert [state(n)["Type"] for n in order] == ["Map", "Task", "Map"]


# --- Paths and sizes -----------------------------------------------------------------------------


def test_the_prefetch_result_names_fields_of_its_response() -> None:
    shape = model_shape(SharedPrefetchResponse)
    for path in state("Prefetch")["ResultSelector"].values():
        assert resolves(path, shape), path


def item_output_bytes(found: dict[str, Any], item: int) -> int:
    """The most an item's state may output: its input (`ResultPath: null`), or what it selects."""
    if found["Type"] == "Pass":
        assert "ResultPath" not in found
        return len(json.dumps(found["Result"]))
    if found.get("ResultPath", "$") is None:
        return item
    selected = found["ResultSelector"]
    assert all(key.endswith(".$") and value.count(".") == 1 for key, value in selected.items())
    return len(json.dumps(dict.fromkeys(selected, True)))  # one boolean (success), say


def test_the_state_stays_within_step_functions_limit() -> None:
    """Step Functions carries at most 256 KiB. The batch's input is at most
    MAX_BATCH_INPUT_BYTES (the scheduler splits a batch further). Each Map collects one output
    per item, never more than the item, and keeps none of it (`ResultPath: null`); the prefetch's
    answer or its caught error is then the only thing added."""
    user = SteamImportEvent(user_id="u" * 128, steam_id64="7" * 17, import_id="i" * 64)
    item = len(batch_input([user])) - len(batch_input([]))
    for name, found in all_states():
        if found["Type"] == "Map":
            assert found["ResultPath"] is None, name
            for inner, item_state in found["ItemProcessor"]["States"].items():
                assert item_output_bytes(item_state, item) <= item, inner
    huge = {
        field: 10**12
        for field, info in EnrichmentStats.model_fields.items()
        if info.annotation is int
    }
    answer = {"success": True, "fetched": 10**4, "stats": EnrichmentStats(**huge).model_dump()}
    caught = {"Error": "x" * 128, "Cause": "x" * ERROR_CAUSE_CHARACTERS}
    largest = max(len(json.dumps(answer)), len(json.dumps(caught)))
    assert MAX_BATCH_INPUT_BYTES + largest + 64 <= STATE_LIMIT_BYTES


@pytest.mark.parametrize("key", ["FetchSteam", "ImportEach"])
def test_the_maps_concurrency_is_bounded(key: str) -> None:
    assert 1 <= state(key)["MaxConcurrency"] <= 40


# --- The definition as AWS validates it ----------------------------------------------------------


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_cfn_lint_accepts_the_definition() -> None:
    """cfn-lint cannot read a SAM DefinitionUri, so the definition is linted inline here."""
    substitutions = {
        key: (
            "arn:aws:states:us-east-1:123456789012:stateMachine:import"
            if key == "ImportStateMachineArn"
            else "arn:aws:lambda:us-east-1:123456789012:function:f"
        )
        for key in state_machine(SYNC_MACHINE)["DefinitionSubstitutions"]
    }
    inline = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/sync",
                    "Definition": definition(SYNC_MACHINE),
                    "DefinitionSubstitutions": substitutions,
                },
            }
        },
    }
    problems = [
        str(match) for match in cfn_lint.lint_all(json.dumps(inline)) if match.rule.id[0] in "EW"
    ]
    assert problems == []
