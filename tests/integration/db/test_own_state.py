"""Own state's own migration chain on standalone databases: `db upgrade` runs it after the
standalone chain, its revision is recorded apart (in `steam_import` on PostgreSQL, in the file on
SQLite), and a database made before own state was versioned is adopted with its rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from lambdas.database.schema import head_revision, prepare_own_state, upgrade
from lambdas.errors import OwnStateMissingError
from lambdas.models.steam_store import StoreType
from lambdas.sql.engine import create_engine
from lambdas.state.app_cache import SqlAppCache, app_cache_table
from lambdas.state.filtered import app_override_table, keep_app, kept_app_ids
from lambdas.state.migrate import own_state_head
from lambdas.state.schema import (
    OWN_STATE_HEAD,
    VERSION_TABLE,
    own_schema,
    own_state_revision,
    own_tables,
    require_own_state,
)

USER = "user-own-state"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_runtime_knows_the_packaged_head() -> None:
    """Stage code reads the revision without Alembic, so its constant must be the chain's head."""
    assert own_state_head() == OWN_STATE_HEAD


def _own_rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            table.name: sorted(tuple(row) for row in connection.execute(table.select()))
            for table in own_tables()
        }


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return own_state_revision(connection)


def test_upgrade_records_the_own_state_revision_in_the_own_schema(private_db_url: str) -> None:
    engine = create_engine(private_db_url)
    try:
        assert _revision(engine) == OWN_STATE_HEAD
        with engine.connect() as connection:
            require_own_state(connection)  # current: nothing raised
            schema = own_schema(connection)
            inspector = inspect(connection)
            assert inspector.has_table(VERSION_TABLE, schema=schema)
            if connection.dialect.name == "postgresql":
                assert not inspector.has_table(VERSION_TABLE)  # never in the app's `public`
    finally:
        engine.dispose()


def test_a_standalone_database_from_before_is_adopted_with_its_rows(private_db_url: str) -> None:
    """As today's `db upgrade` left it: revision 0004 made the tables, no own-state revision."""
    engine = create_engine(private_db_url)
    try:
        SqlAppCache(engine).put_types([StoreType(10, 0, None), StoreType(20, 3, 10)], now=NOW)
        with engine.begin() as connection:
            keep_app(connection, USER, 20, now=NOW)
            schema = own_schema(connection)
            name = f'"{schema}"."{VERSION_TABLE}"' if schema else f'"{VERSION_TABLE}"'
            connection.execute(text(f"DROP TABLE {name}"))
        rows = _own_rows(engine)
        assert len(rows[app_cache_table.name]) == 2 and len(rows[app_override_table.name]) == 1
        assert _revision(engine) is None
        with engine.connect() as connection, pytest.raises(OwnStateMissingError) as refused:
            require_own_state(connection)
        assert "made before it was versioned" in str(refused.value)
        assert "`steam-import db own-state`" in str(refused.value)

        assert prepare_own_state(private_db_url) == head_revision()  # standalone: `db upgrade`
        assert _revision(engine) == OWN_STATE_HEAD
        assert _own_rows(engine) == rows
        with engine.connect() as connection:
            assert kept_app_ids(connection, USER) == {20}
        assert upgrade(private_db_url) == head_revision()  # again: nothing changes
        assert _own_rows(engine) == rows
    finally:
        engine.dispose()


def test_own_state_at_another_revision_is_named_behind(private_db_url: str) -> None:
    engine = create_engine(private_db_url)
    try:
        with engine.begin() as connection:
            schema = own_schema(connection)
            name = f'"{schema}"."{VERSION_TABLE}"' if schema else f'"{VERSION_TABLE}"'
            connection.execute(text(f"UPDATE {name} SET version_num = 's0000_older'"))
        with engine.connect() as connection, pytest.raises(OwnStateMissingError) as refused:
            require_own_state(connection)
        assert f"is at revision s0000_older, this version needs {OWN_STATE_HEAD}" in str(
            refused.value
        )
        assert refused.value.exit_code != 70 and refused.value.code == "OWN_STATE_MISSING"
    finally:
        engine.dispose()


def test_store_details_come_with_s0002_and_a_database_behind_it_goes_without_the_cache(
    private_db_url: str,
) -> None:
    """Revision s0002 adds the app cache's `store_details`: a database still at s0001 keeps
    stage 2 running without the shared cache (warned); upgraded, the item's data round-trips and
    a row written before the column is read as not fresh, so it is asked again once."""
    from alembic import command

    from lambdas.models.app_cache import NO_APP_CACHE
    from lambdas.models.steam_store import StoreDetails
    from lambdas.state.app_cache import open_shared_state
    from lambdas.state.migrate import own_state_config, upgrade_own_state

    engine = create_engine(private_db_url)
    try:
        with engine.begin() as connection:
            command.downgrade(own_state_config(connection), "s0001_own_state")
        assert _revision(engine) == "s0001_own_state"
        cache, kept = open_shared_state(engine, user_id=USER)
        assert cache is NO_APP_CACHE and kept == frozenset()
        with engine.begin() as connection:  # a row an older version wrote: no item data
            connection.execute(
                app_cache_table.insert(),
                [{"app_id": 7, "store_checked_at": NOW.replace(tzinfo=None), "store_known": True,
                  "store_type": 0}],
            )  # fmt: skip
        with engine.begin() as connection:
            assert upgrade_own_state(connection) == OWN_STATE_HEAD
        cache, _ = open_shared_state(engine, user_id=USER)
        assert isinstance(cache, SqlAppCache)
        details = StoreDetails(is_free=True, tags=(87, 492), players=(2,), features=(10,))
        cache.put_types([StoreType(5, 0, 4, details), StoreType(6, None)], now=NOW)
        found = cache.get_types([5, 6, 7], fresh_since=NOW)
        assert found == {5: StoreType(5, 0, 4, details), 6: StoreType(6, None)}  # 7: ask again
    finally:
        engine.dispose()
