"""boto3 clients pointed at the session's moto server, and the real state machine created there."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3

ASL = Path(__file__).parents[3] / "infra" / "statemachine" / "import.asl.json"
REGION = "us-east-1"


def resource_name(test_name: str) -> str:
    """A queue or state machine name unique to one test (ids of parametrized tests included)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", test_name)[:70]


def aws_client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def create_import_state_machine(sfn: Any, name: str) -> str:
    """The deployed definition, with its substitutions filled as CloudFormation would."""
    definition = ASL.read_text(encoding="utf-8")
    for key, value in {
        "SteamImportFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:steam",
        "IgdbEnrichmentFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:igdb",
        "DatabaseImportFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:db",
        "EventBusName": "default",
        "EventSource": "steam-library-import",
    }.items():
        definition = definition.replace("${" + key + "}", value)
    json.loads(definition)
    arn: str = sfn.create_state_machine(
        name=name, definition=definition, roleArn="arn:aws:iam::123456789012:role/import"
    )["stateMachineArn"]
    return arn


def sqs_event(*messages: tuple[str, str]) -> dict[str, Any]:
    """An SQS → Lambda batch event of `(message id, body)` pairs."""
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": f"handle-{message_id}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:imports",
                "awsRegion": REGION,
            }
            for message_id, body in messages
        ]
    }
