"""The SAM template agrees with the code: handlers, settings, secrets, IGDB's limits, security."""

from __future__ import annotations

import importlib
import re
import tomllib
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.unit.infra.documents import INFRA, functions, resources, template

from lambdas.config import Settings
from lambdas.sync.schedule import run_slot

IGDB_REQUESTS_PER_SECOND = 4  # per client id, all processes together
IGDB_MAX_IN_FLIGHT = 8


def statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy in function.get("Policies", [])
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
    ]


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_every_function_runs_an_importable_handler_on_the_intended_runtime() -> None:
    assert len(functions()) == 6
    for name, function in functions().items():
        assert function["Runtime"] == "python3.12", name
        assert function["Architectures"] == ["x86_64"], name
        assert isinstance(function["Timeout"], int) and function["Timeout"] <= 900, name
        assert 128 <= function["MemorySize"] <= 10240, name
        module, _, attribute = function["Handler"].rpartition(".")
        assert module.startswith("lambdas.handlers."), name
        assert callable(getattr(importlib.import_module(module), attribute)), name


def test_sam_build_builds_every_function_with_the_makefile() -> None:
    """`sam build` runs `make build-<LogicalId>` in CodeUri for BuildMethod: makefile."""
    code_uri = template()["Globals"]["Function"]["CodeUri"]
    makefile = (INFRA / code_uri / "Makefile").read_text(encoding="utf-8")
    assert "./build.sh" in makefile and "$(ARTIFACTS_DIR)" in makefile
    joined = makefile.replace("\\\n", " ")  # continuation lines
    (listed,) = re.findall(r"^FUNCTIONS := (.*)$", joined, re.M)
    targets = set(listed.split())
    assert targets == set(functions())
    for name in resources("AWS::Serverless::Function"):
        assert template()["Resources"][name]["Metadata"] == {"BuildMethod": "makefile"}, name
    config = tomllib.loads((INFRA.parent / "samconfig.toml").read_text(encoding="utf-8"))
    build = config["default"]["build"]["parameters"]
    assert build["template_file"] == "infra/template.yaml"
    assert build["build_in_source"] is True
    assert config["default"]["validate"]["parameters"]["lint"] is True
    assert config["default"]["deploy"]["parameters"]["capabilities"] == "CAPABILITY_IAM"


#: Everything each function's own policy allows: what its code calls, nothing more.
LEAST_PRIVILEGE = {
    # GetObject: its own stored response, when an import id it has already run comes again;
    # ListBucket: it never lists, but without it a receipt not stored yet is a 403, not a 404.
    "SteamImportFunction": {
        "secretsmanager:GetSecretValue",
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
    },
    "IgdbEnrichmentFunction": {
        "secretsmanager:GetSecretValue",
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",  # the previous enriched CSV is found by listing the user's prefix
    },
    "DatabaseImportFunction": {
        "secretsmanager:GetSecretValue",
        "s3:GetObject",
        "s3:PutObject",  # the user's committed state only
        "s3:ListBucket",  # it never lists; without it a missing signature is a 403, not a 404
    },
    # ListBucket: it never lists; without it a user's missing stage-1 receipt is a 403, not a 404.
    "SharedPrefetchFunction": {"secretsmanager:GetSecretValue", "s3:GetObject", "s3:ListBucket"},
    "StartImportFunction": {"states:StartExecution"},
    "ScheduledSyncFunction": {"secretsmanager:GetSecretValue", "states:StartExecution"},
}


def test_each_function_is_allowed_exactly_what_its_code_calls() -> None:
    for name, function in functions().items():
        allowed = {action for s in statements(function) for action in actions(s)}
        assert allowed == LEAST_PRIVILEGE[name], name
        assert all(s["Effect"] == "Allow" and s["Resource"] != "*" for s in statements(function))
        managed = [policy for policy in function.get("Policies", []) if isinstance(policy, str)]
        assert managed == [], f"{name} has managed policies {managed}"


def test_every_environment_variable_is_a_setting() -> None:
    for name, function in functions().items():
        for variable in function["Environment"]["Variables"]:
            assert variable.lower() in Settings.model_fields, f"{name} sets unknown {variable}"


def test_each_function_reads_exactly_the_secrets_its_environment_names() -> None:
    for name, function in functions().items():
        named = [
            value
            for variable, value in function["Environment"]["Variables"].items()
            if variable.endswith("_SECRET_ARN")
        ]
        readable = [
            statement["Resource"]
            for statement in statements(function)
            if "secretsmanager:GetSecretValue" in actions(statement)
        ]
        assert readable == named, name
        everything = [s for s in statements(function) if s["Resource"] == "*"]
        assert everything == [], f"{name} has a statement on every resource"


def test_storage_permissions_stay_under_the_imports_prefix() -> None:
    for name, function in functions().items():
        for statement in statements(function):
            for action in actions(statement):
                if not action.startswith("s3:"):
                    continue
                resource = statement["Resource"]
                if action == "s3:ListBucket":
                    prefix = statement["Condition"]["StringLike"]["s3:prefix"]
                    assert prefix == "imports/*", name
                else:
                    assert resource in (
                        {"Fn::Sub": "${ImportsBucket.Arn}/imports/*"},
                        {"Fn::Sub": "${ImportsBucket.Arn}/imports/*/state.json"},
                    ), name


def test_the_committed_state_is_all_stage_3_writes() -> None:
    """Stage 3 writes nothing of the bucket but `imports/*/state.json`; stage 1 reads the user's
    state under the `imports/*` it already reads (its stored responses, issue 30)."""
    state = {"Fn::Sub": "${ImportsBucket.Arn}/imports/*/state.json"}
    for name, action, resource in (
        ("SteamImportFunction", "s3:GetObject", {"Fn::Sub": "${ImportsBucket.Arn}/imports/*"}),
        ("DatabaseImportFunction", "s3:PutObject", state),
    ):
        resources = [
            statement["Resource"]
            for statement in statements(functions()[name])
            if action in actions(statement)
        ]
        assert resources == [resource], name


@pytest.mark.parametrize("concurrency", [1, 2, 3])
def test_enrichment_concurrency_keeps_igdb_s_limits_across_all_containers(
    concurrency: int,
) -> None:
    """The enrichment functions and the one sync-batch prefetch, all at once, stay in IGDB's
    limits."""
    parameter = template()["Parameters"]["IgdbConcurrency"]
    assert set(parameter["AllowedValues"]) == {1, 2, 3}
    share = template()["Mappings"]["IgdbShare"][str(concurrency)]
    rate, in_flight = int(share["RequestsPerSecond"]), int(share["MaxInFlight"])
    prefetch = functions()["SharedPrefetchFunction"]
    assert prefetch["ReservedConcurrentExecutions"] == 1
    processes = concurrency + prefetch["ReservedConcurrentExecutions"]
    assert processes * rate <= IGDB_REQUESTS_PER_SECOND
    assert processes * in_flight <= IGDB_MAX_IN_FLIGHT
    Settings(igdb_requests_per_second=rate, igdb_max_in_flight=in_flight)  # valid values

    enrichment = functions()["IgdbEnrichmentFunction"]
    assert enrichment["ReservedConcurrentExecutions"] == {"Ref": "IgdbConcurrency"}
    for function in (enrichment, prefetch):
        variables = function["Environment"]["Variables"]
        for variable, key in (
            ("IGDB_REQUESTS_PER_SECOND", "RequestsPerSecond"),
            ("IGDB_MAX_IN_FLIGHT", "MaxInFlight"),
        ):
            assert variables[variable] == {
                "Fn::FindInMap": ["IgdbShare", {"Ref": "IgdbConcurrency"}, key]
            }


@pytest.mark.parametrize("runs", [1, 2, 4, 6, 12, 24])
def test_each_sync_schedule_runs_once_per_slot_of_the_day(runs: int) -> None:
    """The cron fires at the start of each slot `lambdas.sync.schedule.run_slot` counts."""
    assert runs in template()["Parameters"]["SyncRunsPerDay"]["AllowedValues"]
    Settings(sync_runs_per_day=runs)
    expression = template()["Mappings"]["SyncRuns"][str(runs)]["Schedule"]
    minute, hour = expression.removeprefix("cron(").split()[:2]
    assert minute == "0"
    hours = (
        list(range(24)) if hour == "*" else list(range(0, 24, int(hour.partition("/")[2] or 24)))
    )
    assert len(hours) == runs
    slots = [run_slot(datetime(2025, 3, 4, h, tzinfo=UTC), runs) for h in hours]
    assert slots == list(range(runs))


def test_stages_that_meet_a_limit_have_reserved_concurrency() -> None:
    for name, parameter in (
        ("SteamImportFunction", "SteamConcurrency"),
        ("DatabaseImportFunction", "DatabaseConcurrency"),
    ):
        assert functions()[name]["ReservedConcurrentExecutions"] == {"Ref": parameter}


def test_database_clients_run_in_the_vpc() -> None:
    for name in ("DatabaseImportFunction", "ScheduledSyncFunction"):
        vpc = functions()[name]["VpcConfig"]
        assert vpc == {
            "SubnetIds": {"Ref": "SubnetIds"},
            "SecurityGroupIds": {"Ref": "SecurityGroupIds"},
        }
        assert "DATABASE_SECRET_ARN" in functions()[name]["Environment"]["Variables"]


def test_the_intake_queue_reports_partial_batches_and_outlives_the_starter() -> None:
    starter = functions()["StartImportFunction"]
    (source,) = starter["Events"].values()
    assert source["Type"] == "SQS"
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = resources("AWS::SQS::Queue")["ImportQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * starter["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["ImportDeadLetterQueue", "Arn"]
    }
    assert starter["Environment"]["Variables"]["STATE_MACHINE_ARN"] == {"Ref": "ImportStateMachine"}


def test_the_sync_schedule_passes_its_time_for_idempotent_import_ids() -> None:
    sync = functions()["ScheduledSyncFunction"]
    (schedule,) = sync["Events"].values()
    assert schedule["Type"] == "ScheduleV2"
    assert "<aws.scheduler.scheduled-time>" in schedule["Properties"]["Input"]
    assert schedule["Properties"]["ScheduleExpression"] == {
        "Fn::FindInMap": ["SyncRuns", {"Ref": "SyncRunsPerDay"}, "Schedule"]
    }
    variables = sync["Environment"]["Variables"]
    assert variables["SYNC_RUNS_PER_DAY"] == {"Ref": "SyncRunsPerDay"}
    assert variables["STEAM_DAILY_CALL_BUDGET"] == {"Ref": "SyncSteamCallBudget"}
    assert sync["ReservedConcurrentExecutions"] == 1


def test_the_bucket_is_private_encrypted_tls_only_and_expires_imports() -> None:
    bucket = resources("AWS::S3::Bucket")["ImportsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["Prefix"] == "imports/"
    assert rule["ExpirationInDays"] == {"Ref": "ImportRetentionDays"}
    (policy,) = resources("AWS::S3::BucketPolicy").values()
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_every_log_group_has_a_retention_and_every_function_uses_one() -> None:
    groups = resources("AWS::Logs::LogGroup")
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    for name, function in functions().items():
        assert function["LoggingConfig"]["LogGroup"]["Ref"] in groups, name


def _setting(function: dict[str, Any], name: str) -> float:
    value = function["Environment"]["Variables"].get(name.upper())
    return float(value) if value is not None else float(Settings.model_fields[name].default)


def test_every_bound_ends_before_lambda_stops_the_function() -> None:
    """A stage's upstream retries end by STAGE_TIME_BUDGET_SECONDS, and a silent database by
    the connect timeout + the statement timeout + the watchdog's margin: each with time left to
    report a typed, retryable error before the function's Timeout kills it untyped."""
    from lambdas.handlers._runtime import LAMBDA_MARGIN_SECONDS
    from lambdas.sql.engine import WATCHDOG_MARGIN

    for name, function in functions().items():
        timeout = function["Timeout"]
        if function["Handler"].endswith(
            ("steam_import.handler", "igdb_enrichment.handler", "shared_prefetch.handler")
        ):
            budget = _setting(function, "stage_time_budget_seconds")
            assert budget + LAMBDA_MARGIN_SECONDS <= timeout, name
            assert _setting(function, "http_attempt_timeout") <= budget, name
        if "DATABASE_SECRET_ARN" in function["Environment"]["Variables"]:
            silent = (
                _setting(function, "database_connect_timeout")
                + _setting(function, "database_statement_timeout")
                + WATCHDOG_MARGIN
            )
            assert silent < timeout, name
