"""Stage 3 under faults and load: drift, a killed connection, concurrency, statement counts."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from tests.integration.db.conftest import add_user
from tests.integration.db.helpers import count, counting_statements, counts
from tests.unit.db.factories import library, row

from lambdas.database.loader import ImportStats, import_rows
from lambdas.database.schema import check
from lambdas.errors import DatabaseUnavailableError, SchemaDriftError
from lambdas.sql.engine import create_engine


def test_drift_is_listed_and_blocks_the_import(private_db_url: str) -> None:
    engine = create_engine(private_db_url)
    user_id = add_user(engine)
    with engine.begin() as connection:
        connection.execute(text('ALTER TABLE "ImportedGame" DROP COLUMN "playtimeMac"'))
    assert check(private_db_url).problems == ['"ImportedGame"."playtimeMac": column is missing']
    with pytest.raises(SchemaDriftError, match="playtimeMac"):
        import_rows(engine, user_id=user_id, rows=library(30))
    assert counts(engine)["ImportedGame"] == counts(engine)["Game"] == 0
    engine.dispose()


def _warm_up(engine: Engine, user_id: str) -> None:
    """One small import first: SQLAlchemy's PostgreSQL dialect looks up the btree access method
    once per engine, during the first reflection, which would add one statement to the first run."""
    import_rows(engine, user_id=user_id, rows=library(5, start=900_000))


def test_statement_count_does_not_grow_with_the_library(engine: Engine, user_id: str) -> None:
    _warm_up(engine, user_id)
    measured: dict[int, int] = {}
    # 21,000 rows hold 2,100 non-games: more than one batch of the executemany that recording
    # filtered apps once used (2,000 a statement), so a per-batch statement would show here.
    for size, start in ((100, 1), (21_000, 100_000)):
        with counting_statements(engine) as statements:
            stats = import_rows(engine, user_id=user_id, rows=library(size, start=start))
        assert stats.games_created > 0
        measured[size] = len(statements)
    assert measured[100] == measured[21_000], measured


def test_rerun_statement_count_is_the_same_too(engine: Engine, user_id: str) -> None:
    _warm_up(engine, user_id)
    rows_ = library(300)
    with counting_statements(engine) as first:
        import_rows(engine, user_id=user_id, rows=rows_)
    with counting_statements(engine) as second:
        assert import_rows(engine, user_id=user_id, rows=rows_) == ImportStats()
    assert len(first) == len(second)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_killed_connection_mid_import_leaves_nothing_and_a_rerun_succeeds(
    engine: Engine, user_id: str, db_url: str
) -> None:
    killer = create_engine(db_url)

    def kill_before_game_upsert(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith('INSERT INTO "Game"'):
            pid = conn.connection.dbapi_connection.info.backend_pid
            with killer.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    event.listen(engine, "before_cursor_execute", kill_before_game_upsert)
    try:
        with pytest.raises(DatabaseUnavailableError):
            import_rows(engine, user_id=user_id, rows=library(200))
    finally:
        event.remove(engine, "before_cursor_execute", kill_before_game_upsert)
        killer.dispose()
    assert set(counts(engine).values()) == {0, 1}  # only the User row is there
    assert count(engine, "ImportedGame") == 0
    stats = import_rows(engine, user_id=user_id, rows=library(200))
    assert stats.imported_games_created > 0 and stats.library_items_created > 0


def test_concurrent_imports_of_one_user_do_not_duplicate(db_url: str, user_id: str) -> None:
    rows_ = library(400)
    engines = [create_engine(db_url) for _ in range(2)]
    start = threading.Barrier(len(engines))
    results: list[ImportStats] = []
    errors: list[BaseException] = []

    def run(engine: Engine) -> None:
        start.wait()
        try:
            results.append(import_rows(engine, user_id=user_id, rows=rows_))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert errors == []
    matched = sum(1 for r in rows_ if r.igdb_id is not None)
    assert sorted(r.library_items_created for r in results) == [0, matched]
    assert sorted(r.imported_games_created for r in results)[0] == 0
    check_engine = create_engine(db_url)
    assert count(check_engine, "LibraryItem") == matched
    assert count(check_engine, "Game") == matched
    check_engine.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_an_import_waits_for_its_users_advisory_lock(
    engine: Engine, user_id: str, db_url: str
) -> None:
    holder = create_engine(db_url)
    results: list[ImportStats] = []
    worker = threading.Thread(
        target=lambda: results.append(import_rows(engine, user_id=user_id, rows=library(50)))
    )
    with holder.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:u))"), {"u": user_id})
        worker.start()
        waiting = 0
        for _ in range(10_000):  # bounded spin on the server's own view, no clock involved
            waiting = connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            ).scalar_one()
            if waiting:
                break
        assert waiting == 1
        assert results == []
    worker.join()
    holder.dispose()
    assert results[0].library_items_created > 0


def test_sqlite_reads_each_record_array_once_per_statement(tmp_path: Path) -> None:
    """A re-import's statements scan each JSON record array once (materialized), never once per
    stored row: the plan shows every `json_each` scan directly under its MATERIALIZE step."""
    import sqlite3

    from lambdas.database.schema import upgrade
    from lambdas.database.users import ensure_user

    url = f"sqlite:///{tmp_path / 'plans.db'}"
    upgrade(url)
    engine = create_engine(url)
    ensure_user(engine, user_id="u1", create=True)
    rows_ = [row(appid, playtime=appid) for appid in range(1, 51)]
    import_rows(engine, user_id="u1", rows=rows_)
    captured: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if "json_each" in statement:
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    import_rows(engine, user_id="u1", rows=rows_)
    event.remove(engine, "before_cursor_execute", keep)
    engine.dispose()
    assert len(captured) > 5
    with sqlite3.connect(tmp_path / "plans.db") as connection:
        for statement, parameters in captured:
            plan = connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
            details = {node: detail for node, _parent, _unused, detail in plan}
            for _node, parent, _unused, detail in plan:
                if detail.startswith("SCAN") and "_items" in detail:
                    assert details[parent].startswith("MATERIALIZE"), (statement[:80], plan)
