"""Stage 1 against the sandbox over HTTP: every user kind and every error code, end to end."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.stages.steam_stage import run_stage1 as run

from lambdas.clients.s3 import LocalStorage
from lambdas.config import Settings
from lambdas.errors import (
    InvalidSteamIdError,
    PipelineError,
    PrivateProfileError,
    ProfileNotFoundError,
    SteamAuthError,
    SteamRateLimitedError,
    UpstreamUnavailableError,
)
from lambdas.models.csv_codec import decode_rows
from lambdas.models.rows import RawGameRow
from steam_sandbox import Sandbox


@pytest.mark.parametrize("kind", ["small", "medium", "large", "huge"])
def test_public_libraries(
    kind: str, fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    user = fresh_sandbox.users.by_name(kind)
    result = run(sandbox_settings, storage, str(user.steamid64))
    truth = fresh_sandbox.ground_truth(kind)
    rows = decode_rows(storage.get(result.location, user_id="user-1"), RawGameRow)
    assert result.game_count == len(rows) == len(truth)
    assert [row.appid for row in rows] == [app.appid for app in truth]
    assert [row.name for row in rows] == [app.name for app in truth]
    assert any(row.playtime_forever > 0 for row in rows)
    assert any(row.playtime_forever == 0 and row.rtime_last_played == 0 for row in rows)
    if kind == "medium":
        assert 450 <= len(rows) <= 550


def test_every_pasted_form_reaches_the_same_library(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    user = fresh_sandbox.users.small
    account_id = int(user.steamid64) - 76561197960265728
    forms = [
        str(user.steamid64),
        f"STEAM_1:{account_id & 1}:{account_id >> 1}",
        f"[U:1:{account_id}]",
        f"https://steamcommunity.com/profiles/{user.steamid64}/",
        f"steamcommunity.com/id/{user.vanity}?l=english",
        str(user.vanity),  # bare, as docs/sandbox.md lists it
    ]
    counts = {form: run(sandbox_settings, storage, form).game_count for form in forms}
    assert set(counts.values()) == {len(fresh_sandbox.ground_truth("small"))}


def test_empty_library_is_a_successful_import_of_nothing(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    result = run(sandbox_settings, storage, str(fresh_sandbox.users.empty.steamid64))
    assert result.game_count == 0
    assert decode_rows(storage.get(result.location, user_id="user-1"), RawGameRow) == []


@pytest.mark.parametrize(
    ("user", "error", "message"),
    [
        ("private_profile", PrivateProfileError, "is private"),
        ("private_games", PrivateProfileError, "game details"),
        ("nonexistent", ProfileNotFoundError, "no Steam account"),
    ],
)
def test_permanent_outcomes(
    user: str,
    error: type[PipelineError],
    message: str,
    fresh_sandbox: Sandbox,
    sandbox_settings: Settings,
    storage: LocalStorage,
) -> None:
    with pytest.raises(error, match=message):
        run(sandbox_settings, storage, str(fresh_sandbox.users.by_name(user).steamid64))
    assert not list(sandbox_settings.data_dir.rglob("*.csv"))


def test_unknown_vanity(sandbox_settings: Settings, storage: LocalStorage) -> None:
    with pytest.raises(ProfileNotFoundError, match="no-such-person"):
        run(sandbox_settings, storage, "https://steamcommunity.com/id/no-such-person")


def test_invalid_id_makes_no_request(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    with pytest.raises(InvalidSteamIdError):
        run(sandbox_settings, storage, "76561197960361544; DROP TABLE")
    assert fresh_sandbox.stats().steam_daily_used == 0


def test_bad_key_is_not_retried(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    with pytest.raises(SteamAuthError):
        run(
            sandbox_settings,
            storage,
            str(fresh_sandbox.users.small.steamid64),
            steam_api_key="0" * 32,
        )
    assert sum(fresh_sandbox.stats().requests["steam"].get("summaries", {}).values()) <= 1


def test_transient_faults_are_retried_to_success(
    fresh_sandbox: Sandbox, sandbox_settings: Settings, storage: LocalStorage
) -> None:
    fresh_sandbox.set_knobs(steam={"error_rate": 0.4, "burst_429_rate": 0.2})
    result = run(
        sandbox_settings, storage, str(fresh_sandbox.users.medium.steamid64), steam_max_attempts=12
    )
    assert result.game_count == len(fresh_sandbox.ground_truth("medium"))


@pytest.mark.parametrize(
    ("knobs", "error"),
    [
        ({"error_rate": 1.0}, UpstreamUnavailableError),
        ({"burst_429_rate": 1.0}, SteamRateLimitedError),
        ({"hang_probability": 1.0, "hang_seconds": 3.0}, UpstreamUnavailableError),
    ],
)
def test_persistent_faults_end_in_transient_errors(
    knobs: dict[str, Any],
    error: type[PipelineError],
    fresh_sandbox: Sandbox,
    sandbox_settings: Settings,
    storage: LocalStorage,
) -> None:
    fresh_sandbox.set_knobs(steam=knobs)
    with pytest.raises(error) as info:
        run(
            sandbox_settings,
            storage,
            str(fresh_sandbox.users.small.steamid64),
            steam_max_attempts=2,
            http_read_timeout=0.5,
        )
    assert info.value.transient
    assert not list(sandbox_settings.data_dir.rglob("*.csv"))
