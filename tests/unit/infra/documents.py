"""The deployment documents as data: the SAM template (CloudFormation tags kept) and the ASL."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

from lambdas.models.events import (
    DatabaseImportEvent,
    DatabaseImportResponse,
    IgdbEnrichmentEvent,
    IgdbEnrichmentResponse,
    StageEvent,
    StageResponse,
    SteamImportEvent,
    SteamImportResponse,
)

INFRA = Path(__file__).parents[3] / "infra"
TEMPLATE = INFRA / "template.yaml"

# What each stage handler takes and answers: the contracts the state machine must respect.
STAGE_MODELS: dict[str, tuple[type[StageEvent], type[StageResponse]]] = {
    "lambdas.handlers.steam_import.handler": (SteamImportEvent, SteamImportResponse),
    "lambdas.handlers.igdb_enrichment.handler": (IgdbEnrichmentEvent, IgdbEnrichmentResponse),
    "lambdas.handlers.database_import.handler": (DatabaseImportEvent, DatabaseImportResponse),
}


@cache
def template() -> dict[str, Any]:
    """The template with `!Ref`/`!Sub`/`!GetAtt` as their long forms (cfn-lint's own loader)."""
    loaded, problems = decode(str(TEMPLATE))
    assert not problems, problems
    assert loaded is not None
    return dict(loaded)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template()["Resources"].items()
        if resource["Type"] == kind
    }


def functions() -> dict[str, dict[str, Any]]:
    """Every Lambda function's properties, with the template's Globals under them."""
    defaults = template().get("Globals", {}).get("Function", {})
    found = {}
    for name, resource in resources("AWS::Serverless::Function").items():
        properties = {**defaults, **resource["Properties"]}
        variables = {
            **defaults.get("Environment", {}).get("Variables", {}),
            **resource["Properties"].get("Environment", {}).get("Variables", {}),
        }
        properties["Environment"] = {"Variables": variables}
        found[name] = properties
    return found


IMPORT_MACHINE = "ImportStateMachine"
SYNC_MACHINE = "SyncBatchStateMachine"


def state_machine(logical_id: str = IMPORT_MACHINE) -> dict[str, Any]:
    """A state machine's properties: the import machine unless another is named."""
    properties: dict[str, Any] = resources("AWS::Serverless::StateMachine")[logical_id][
        "Properties"
    ]
    return properties


@cache
def definition(logical_id: str = IMPORT_MACHINE) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (INFRA / state_machine(logical_id)["DefinitionUri"]).read_text(encoding="utf-8")
    )
    return loaded


def states() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = definition()["States"]
    return found


def function_of_task(state: dict[str, Any], logical_id: str = IMPORT_MACHINE) -> str:
    """The template's logical id of the function a Task invokes, through DefinitionSubstitutions."""
    resource = state["Resource"]
    assert resource.startswith("${") and resource.endswith("}"), resource
    target = state_machine(logical_id)["DefinitionSubstitutions"][resource[2:-1]]
    logical, attribute = target["Fn::GetAtt"]
    assert attribute == "Arn"
    return str(logical)


def stage_tasks() -> dict[str, dict[str, Any]]:
    """The Task states that run a Lambda function, by state name."""
    return {
        name: state
        for name, state in states().items()
        if state["Type"] == "Task" and state["Resource"].startswith("${")
    }
