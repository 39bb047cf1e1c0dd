"""`steam-import run`, the whole pipeline against the sandbox, into the app's own database as
its migrations made it: the rows the app expects, its schema untouched, and a second run that
changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from tests.integration.app_schemas.conftest import PROFILES, USER, schema_dump, table
from typer.testing import CliRunner

from lambdas.cli import app
from lambdas.models.rows import MatchStatus
from lambdas.sql.engine import create_engine
from steam_sandbox import Sandbox

APP_TABLES = (
    "ImportedGame",
    "Game",
    "Genre",
    "Platform",
    "GameGenre",
    "GamePlatform",
    "LibraryItem",
)


def run_cli(sandbox: Sandbox, url: str, data: Path, *args: str) -> dict[str, Any]:
    env = {
        **sandbox.env(),
        "DATA_DIR": str(data),
        "DATABASE_URL": url,
        "RETRY_INITIAL_WAIT_SECONDS": "0.01",
    }
    result = CliRunner().invoke(app, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def snapshot(engine: Engine, user_table: str) -> dict[str, list[dict[str, object]]]:
    tables = [*APP_TABLES, user_table]
    if user_table == "user":
        tables.append("Playthrough")
    return {name: table(engine, name) for name in tables}


def expected_status(profile: str, item: dict[str, object], now: datetime) -> str:
    """The library status the app's rule gives (seed era: played or not; today: smart status)."""
    playtime = int(item["playtime"] or 0)  # type: ignore[call-overload]
    last = item.get("lastPlayedAt")
    if profile == "savepoint-2025":
        return "EXPERIENCED" if playtime > 0 else "CURIOUS_ABOUT"
    recent = isinstance(last, datetime) and now - last <= timedelta(days=7)
    return "PLAYING" if playtime > 0 and recent else "SHELF"


def test_run_imports_into_the_apps_own_database_and_a_second_run_changes_nothing(
    app_db: tuple[str, str], fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    profile, url = app_db
    users = PROFILES[profile]
    before = schema_dump(url)
    account = fresh_sandbox.users.small
    truth = fresh_sandbox.ground_truth("small")
    body = run_cli(
        fresh_sandbox, url, tmp_path / "data", "run", "--user-id", USER, "--steam",
        str(account.steamid64),
    )  # fmt: skip
    assert body["success"] is True, body
    now = datetime.now(UTC).replace(tzinfo=None)  # the app's columns hold naive UTC
    engine = create_engine(url)
    try:
        games = {str(a.appid) for a in truth if a.status is not MatchStatus.FILTERED}
        matched = {str(a.appid): a.igdb_id for a in truth if a.status is MatchStatus.MATCHED}
        imported = {r["storefrontGameId"]: r for r in table(engine, "ImportedGame")}
        # One live Steam row per game the user owns; DLC, soundtracks and tools stay out.
        assert set(imported) == games
        assert {a for a, r in imported.items() if r["igdbMatchStatus"] == "MATCHED"} == set(matched)
        assert {r["igdbMatchStatus"] for a, r in imported.items() if a not in matched} == {
            "UNMATCHED"
        }
        assert {(r["userId"], r["storefront"], r["deletedAt"]) for r in imported.values()} == {
            (USER, "STEAM", None)
        }
        assert all(r["id"] and r["updatedAt"] for r in imported.values())  # ours to write

        game_rows = table(engine, "Game")
        by_igdb = {g["igdbId"]: g for g in game_rows}
        assert set(by_igdb) == set(matched.values())
        for app_id, igdb_id in matched.items():
            apps_of_game = {int(a) for a, i in matched.items() if i == igdb_id}
            assert by_igdb[igdb_id]["steamAppId"] in apps_of_game, app_id
        covers = [g["coverImage"] for g in game_rows if g["coverImage"]]
        assert covers and all(
            str(c).startswith("https://images.igdb.com/igdb/image/upload/t_cover_big/")
            for c in covers
        )
        game_ids = {g["id"] for g in game_rows}
        for link in ("GameGenre", "GamePlatform"):
            links = table(engine, link)
            assert links and {r["gameId"] for r in links} <= game_ids

        # Library mode: one item per matched game, status by the live enum's rule.
        items = table(engine, "LibraryItem")
        assert sorted(i["gameId"] for i in items) == sorted(game_ids)
        app_of_game = {g["id"]: str(g["steamAppId"]) for g in game_rows}
        for item in items:
            row = imported[app_of_game[item["gameId"]]]
            assert item["status"] == expected_status(profile, row, now), row
            assert item["userId"] == USER
        if profile == "savepoint-2026":
            assert {i["platform"] for i in items} == {"PC (Microsoft Windows)"}
            assert table(engine, "Playthrough") == []  # the app writes none on import
        user = next(u for u in table(engine, users) if u["id"] == USER)
        assert user["steamId64"] == str(account.steamid64)

        first = snapshot(engine, users)
        again = run_cli(
            fresh_sandbox, url, tmp_path / "data", "run", "--user-id", USER, "--steam",
            str(account.steamid64),
        )  # fmt: skip
        assert again["success"] is True, again
        assert snapshot(engine, users) == first
        assert schema_dump(url) == before
    finally:
        engine.dispose()


def test_own_state_beside_the_apps_tables_brings_the_filtered_list_and_the_shared_cache(
    app_db: tuple[str, str], fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    profile, url = app_db
    before = schema_dump(url)
    warned = run_cli(fresh_sandbox, url, tmp_path, "db", "check")["warnings"]
    assert any("db own-state" in warning for warning in warned)
    for _ in range(2):  # idempotent
        assert run_cli(fresh_sandbox, url, tmp_path, "db", "own-state")["own_state"] == (
            "steam_import"
        )
    assert not any(
        "db own-state" in w
        for w in run_cli(fresh_sandbox, url, tmp_path, "db", "check")["warnings"]
    )
    account = fresh_sandbox.users.small
    run_cli(
        fresh_sandbox, url, tmp_path / "data", "run", "--user-id", USER, "--steam",
        str(account.steamid64),
    )  # fmt: skip
    filtered = run_cli(fresh_sandbox, url, tmp_path, "filtered", "--user-id", USER)
    truth = fresh_sandbox.ground_truth("small")
    assert {int(app["app_id"]) for app in filtered["filtered"]} == {
        a.appid for a in truth if a.status is MatchStatus.FILTERED
    }
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            cached = connection.exec_driver_sql(
                "SELECT count(*) FROM steam_import.app_cache"
            ).scalar_one()
        assert cached >= len(truth)
    finally:
        engine.dispose()
    assert schema_dump(url) == before, profile


def test_create_user_is_refused_on_the_apps_database(
    app_db: tuple[str, str], fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    """Pit 3: `--create-user` inserted a bare row (no name, email or username) into the app's
    user table, linked to a Steam id, and said nothing."""
    profile, url = app_db
    engine = create_engine(url)
    users_before = table(engine, PROFILES[profile])
    env = {**fresh_sandbox.env(), "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": url}
    small = str(fresh_sandbox.users.small.steamid64)
    args = ["run", "--user-id", "newcomer000000000000000001", "--steam", small, "--create-user"]
    result = CliRunner().invoke(app, [*args, "--json"], env=env)
    assert result.exit_code == 64, result.output
    body = json.loads(result.stdout)
    assert body["error_code"] == "INVALID_ARGUMENT"
    assert "standalone" in body["error"] and profile in body["error"]
    assert table(engine, PROFILES[profile]) == users_before
    assert table(engine, "ImportedGame") == []
    engine.dispose()
