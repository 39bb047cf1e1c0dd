"""What stage 3 writes of the wishlist when it may not write items: curate mode, an app database
without this project's own state; the configured wishlist status; and `steam-import wishlist`."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from tests.integration.app_schemas.conftest import USER, schema_dump
from tests.integration.library.test_wishlist_items import _import, _items
from typer.testing import CliRunner

from lambdas.cli import app
from lambdas.sql.engine import create_engine
from steam_sandbox import Sandbox


def _wished_matched(sandbox: Sandbox) -> int:
    owned = {a.appid for a in sandbox.ground_truth("small")}
    return sum(
        e.app.appid not in owned
        and e.app.truth.kind.value == "GAME"
        and e.app.truth.igdb_id is not None
        and e.app.truth.status.value == "MATCHED"
        for e in sandbox.wishlist("small")
    )


def test_curate_mode_writes_no_wishlist_item(
    engine: Engine, db_url: str, fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    stats = _import(engine, db_url, fresh_sandbox, tmp_path, "user-c", "c1", import_mode="curate")
    assert stats.wishlist_items_created == 0
    assert stats.wishlist_not_written == _wished_matched(fresh_sandbox)
    assert stats.wishlist_not_written_reason == "curate mode"
    assert _items(engine, "user-c") == {}


def test_the_configured_wishlist_status_is_written(
    engine: Engine, db_url: str, fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    _import(
        engine,
        db_url,
        fresh_sandbox,
        tmp_path,
        "user-s",
        "s1",
        library_status_wishlist="REVISITING",
    )
    statuses = {item["status"] for item in _items(engine, "user-s").values()}
    assert "REVISITING" in statuses and "WISHLIST" not in statuses


def test_without_own_state_the_wishlist_is_reported_not_written(
    app_db: tuple[str, str], fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    _profile, url = app_db
    before = schema_dump(url)
    engine = create_engine(url)
    try:
        stats = _import(engine, url, fresh_sandbox, tmp_path, USER, "n1")
        assert stats.wishlist_items_created == 0
        assert stats.wishlist_not_written == _wished_matched(fresh_sandbox)
        assert "db own-state" in (stats.wishlist_not_written_reason or "")
        with engine.connect() as connection:
            statuses = connection.execute(
                text('SELECT DISTINCT CAST(status AS TEXT) FROM "LibraryItem"')
            ).scalars()
            assert "WISHLIST" not in set(statuses)
    finally:
        engine.dispose()
    assert schema_dump(url) == before


def test_the_wishlist_command_lists_each_apps_decision(
    engine: Engine, db_url: str, fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    _import(engine, db_url, fresh_sandbox, tmp_path, "user-l", "l1")
    result = CliRunner().invoke(
        app,
        ["wishlist", "--user-id", "user-l", "--json"],
        env={"DATABASE_URL": db_url, "DATA_DIR": str(tmp_path / "data")},
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["wishlist"]
    expected = fresh_sandbox.wishlist("small")
    assert [(a["app_id"], a["priority"]) for a in listed] == [
        (e.app.appid, e.priority) for e in expected
    ]
    decisions = [a["decision"] for a in listed]
    assert decisions.count("owned") == 1 and decisions.count("filtered") == 1
    assert decisions.count("added") == _wished_matched(fresh_sandbox)
    assert "unmatched" in decisions


def test_a_failing_wishlist_leaves_the_whole_import_successful(
    engine: Engine, db_url: str, fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    fresh_sandbox.set_knobs(steam={"wishlist_fault": "error"})
    stats = _import(engine, db_url, fresh_sandbox, tmp_path, "user-f", "f1")
    assert stats.library_items_created > 0
    assert (stats.wishlist_items_created, stats.wishlist_not_written) == (0, 0)
