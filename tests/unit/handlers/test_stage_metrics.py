"""Each stage invocation leaves one CloudWatch EMF document with its counts and duration."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdas.errors import PrivateProfileError
from lambdas.handlers._metrics import NAMESPACE, publish_stage_metrics, stage_metrics
from lambdas.models.events import (
    DatabaseImportResponse,
    EnrichmentStats,
    IgdbEnrichmentResponse,
    ImportStats,
    SteamImportResponse,
)


def emf_documents(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if '"_aws"' in line]


def metric_values(document: dict[str, Any]) -> dict[str, Any]:
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == NAMESPACE
    values = {metric["Name"]: document[metric["Name"]] for metric in directive["Metrics"]}
    return {name: value[0] if isinstance(value, list) else value for name, value in values.items()}


def test_enrichment_counts_and_duration_reach_one_emf_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    response = IgdbEnrichmentResponse(
        success=True,
        s3_enriched_location="s3://b/imports/u/x-enriched.csv",
        stats=EnrichmentStats(
            processed=10,
            matched=6,
            unmatched=2,
            filtered=2,
            reused=3,
            igdb_requests=2,
            steam_store_calls=1,
        ),
    )
    publish_stage_metrics(stage="igdb_enrichment", seconds=1.25, response=response)

    (document,) = emf_documents(capsys.readouterr().out)
    values = metric_values(document)
    assert values["Matched"] == 6 and values["Unmatched"] == 2 and values["Filtered"] == 2
    assert values["Processed"] == 10 and values["Reused"] == 3 and values["Succeeded"] == 1
    assert values["IgdbRequests"] == 2 and values["SteamStoreCalls"] == 1
    assert values["Duration"] == pytest.approx(1250)
    assert document["service"] == "igdb_enrichment"


def test_steam_requests_are_counted(capsys: pytest.CaptureFixture[str]) -> None:
    response = SteamImportResponse(success=True, game_count=40, steam_requests=2)
    publish_stage_metrics(stage="steam_import", seconds=0.3, response=response)
    (document,) = emf_documents(capsys.readouterr().out)
    assert metric_values(document)["SteamRequests"] == 2
    assert metric_values(document)["GamesFetched"] == 40


def test_a_rejection_and_a_raised_error_are_counted_with_their_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rejected = SteamImportResponse.failure(PrivateProfileError("private"), user_id="u")
    publish_stage_metrics(stage="steam_import", seconds=0.1, response=rejected)
    publish_stage_metrics(
        stage="igdb_enrichment", seconds=2.0, response=None, error_code="IGDB_RATE_LIMITED"
    )

    first, second = emf_documents(capsys.readouterr().out)
    assert metric_values(first)["Rejected"] == 1 and first["error_code"] == "PRIVATE_PROFILE"
    assert "GamesFetched" not in metric_values(first)
    assert metric_values(second)["Raised"] == 1 and second["error_code"] == "IGDB_RATE_LIMITED"


def test_imported_counts_created_and_updated_games() -> None:
    response = DatabaseImportResponse(
        success=True,
        stats=ImportStats(
            imported_games_created=5, imported_games_updated=7, library_items_created=4
        ),
    )
    assert stage_metrics(response) == {
        "Succeeded": 1,
        "Imported": 12,
        "ImportedCreated": 5,
        "LibraryItemsCreated": 4,
    }
