"""Stage 3 into the app's own schemas (DDL in tests/app_schemas/), never altering them."""

from __future__ import annotations

import os
import subprocess
import threading
from datetime import datetime
from importlib.resources import files

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from tests import postgres
from tests.integration.databases import PostgresServer
from tests.unit.db.factories import row

from lambdas.database.engine import create_engine
from lambdas.database.loader import LoadOptions, import_rows
from lambdas.database.profiles import ImportMode
from lambdas.database.schema import check, upgrade
from lambdas.errors import AppOwnedSchemaError
from lambdas.models.rows import MatchStatus

USER = "cappuser000000000000000001"
NOW = datetime(2026, 6, 30, 12, 0, 0)
PROFILES = {"savepoint-2025": "User", "savepoint-2026": "user"}


@pytest.fixture(params=sorted(PROFILES))
def app_db(request: pytest.FixtureRequest, pg_server: PostgresServer) -> tuple[str, str]:
    url = pg_server.create()
    ddl = (files("tests") / "app_schemas" / f"{request.param.replace('-', '_')}.sql").read_text()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(ddl)
        connection.execute(
            text(f'INSERT INTO "{PROFILES[request.param]}" (id, "updatedAt") VALUES (:id, :now)'),
            {"id": USER, "now": NOW},
        )
    engine.dispose()
    return request.param, url


def schema_dump(url: str) -> str:
    parsed = make_url(url)
    environment = {**os.environ, "PGPASSWORD": parsed.password or ""}
    dump = subprocess.run(
        [
            postgres.pg_dump(),  # the embedded build's: the newest, so it dumps any server
            "--schema-only",
            "--schema=public",
            "-h",
            str(parsed.host),
            "-U",
            str(parsed.username),
            "-p",
            str(parsed.port),
            str(parsed.database),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
    ).stdout
    # pg_dump brackets its output with a random \restrict key; the schema is everything else.
    return "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))


def table(engine: Engine, name: str) -> list[dict[str, object]]:
    with engine.connect() as connection:
        result = connection.execute(text(f'SELECT * FROM "{name}" ORDER BY 1'))
        return [dict(r._mapping) for r in result]


def library() -> list[object]:
    recent = int(NOW.timestamp()) - 86_400
    return [
        row(10, windows=30, playtime=30, last_played=recent),
        row(20),
        row(30, status=MatchStatus.UNMATCHED),
        row(40, status=MatchStatus.FILTERED),
        row(50, name="Blocked name"),
    ]


def test_import_writes_what_the_app_expects_and_never_alters_its_schema(
    app_db: tuple[str, str],
) -> None:
    profile, url = app_db
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text('INSERT INTO "IgnoredImportedGames" (id, name, "userId") VALUES (\'i1\', :n, :u)'),
            {"n": "Blocked name", "u": USER},
        )
    before = schema_dump(url)
    assert check(url).profile == profile
    with pytest.raises(AppOwnedSchemaError):
        upgrade(url)
    stats = import_rows(engine, user_id=USER, rows=library(), now=NOW)
    assert stats.imported_games_created == 3
    assert stats.library_items_created == 2
    imported = {r["storefrontGameId"]: r for r in table(engine, "ImportedGame")}
    assert sorted(imported) == ["10", "20", "30"]  # non-game and blocklisted name stay out
    assert imported["30"]["igdbMatchStatus"] == "UNMATCHED"
    assert imported["10"]["igdbMatchStatus"] == "MATCHED"
    items = {r["gameId"]: r for r in table(engine, "LibraryItem")}
    games = {r["id"]: r for r in table(engine, "Game")}
    by_app = {games[g]["steamAppId"]: item for g, item in items.items()}
    if profile == "savepoint-2026":
        assert (by_app[10]["status"], by_app[20]["status"]) == ("PLAYING", "SHELF")
        assert {i["platform"] for i in items.values()} == {"PC (Microsoft Windows)"}
        assert table(engine, "Playthrough") == []
    else:
        assert (by_app[10]["status"], by_app[20]["status"]) == ("EXPERIENCED", "CURIOUS_ABOUT")
    assert table(engine, "GamePlatform") and table(engine, "GameGenre")
    # The user edits a library item in the app; a re-run changes nothing at all.
    with engine.begin() as connection:
        connection.execute(text("UPDATE \"LibraryItem\" SET platform = 'Edited'"))
    snapshot = {name: table(engine, name) for name in ("ImportedGame", "Game", "LibraryItem")}
    again = import_rows(engine, user_id=USER, rows=library(), now=datetime(2026, 7, 1))
    assert again.imported_games_created == again.imported_games_updated == 0
    assert again.library_items_created == again.games_created == 0
    assert {name: table(engine, name) for name in snapshot} == snapshot
    assert schema_dump(url) == before
    engine.dispose()


def test_two_concurrent_imports_of_one_user_leave_one_row_per_app(
    app_db: tuple[str, str],
) -> None:
    _profile, url = app_db
    engine = create_engine(url)
    rows_ = [row(appid) for appid in range(1, 200)]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            import_rows(engine, user_id=USER, rows=rows_, now=NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(table(engine, "ImportedGame")) == 199
    assert len(table(engine, "LibraryItem")) == 199
    engine.dispose()


def test_curate_mode_writes_pending_rows_and_no_library_items(app_db: tuple[str, str]) -> None:
    _profile, url = app_db
    engine = create_engine(url)
    options = LoadOptions(mode=ImportMode.CURATE)
    import_rows(engine, user_id=USER, rows=library(), now=NOW, options=options)
    statuses = {r["storefrontGameId"]: r["igdbMatchStatus"] for r in table(engine, "ImportedGame")}
    assert statuses == {"10": "PENDING", "20": "PENDING", "30": "UNMATCHED", "50": "PENDING"}
    assert table(engine, "LibraryItem") == []
    assert len(table(engine, "Game")) == 3
    engine.dispose()


def test_a_partial_steam_answer_never_lowers_playtimes_and_is_reported(
    app_db: tuple[str, str],
) -> None:
    _profile, url = app_db
    engine = create_engine(url)
    import_rows(engine, user_id=USER, rows=[row(a, playtime=90) for a in range(1, 11)], now=NOW)
    stats = import_rows(engine, user_id=USER, rows=[row(1, playtime=0)], now=NOW)
    assert (stats.playtimes_kept, stats.suspicious_shrink) == (1, True)
    assert {r["playtime"] for r in table(engine, "ImportedGame")} == {90}
    assert len(table(engine, "ImportedGame")) == 10
    engine.dispose()
