"""Stage 3 into the app's own schemas (DDL in tests/app_schemas/), never altering them."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import text
from tests.integration.app_schemas.conftest import NOW, USER, schema_dump, table
from tests.unit.db.factories import row

from lambdas.database.loader import LoadOptions, import_rows
from lambdas.database.profiles import ImportMode
from lambdas.database.schema import check, upgrade
from lambdas.errors import AppOwnedSchemaError
from lambdas.models.rows import MatchStatus
from lambdas.sql.engine import create_engine


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


def test_the_unique_index_of_an_earlier_app_branch_counts_as_one_row_per_app(
    app_db: tuple[str, str],
) -> None:
    """An earlier branch of the app's migrations (2025-08) made ("userId", "storefrontGameId")
    unique on ImportedGame; a database migrated through it needs no further index, and imports
    into it keep a soft-deleted row as it is rather than adding a second one."""
    _profile, url = app_db

    def imported_warnings() -> list[str]:
        return [w for w in check(url).warnings if w.startswith('"ImportedGame": no unique')]

    assert len(imported_warnings()) == 1
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                'CREATE UNIQUE INDEX "ImportedGame_userId_storefrontGameId_key" '
                'ON "ImportedGame" ("userId", "storefrontGameId")'
            )
        )
    report = check(url)
    assert (report.problems, imported_warnings()) == ([], [])
    import_rows(engine, user_id=USER, rows=library(), now=NOW)
    with engine.begin() as connection:
        connection.execute(
            text('UPDATE "ImportedGame" SET "deletedAt" = :now WHERE "storefrontGameId" = \'20\''),
            {"now": NOW},
        )
    again = import_rows(engine, user_id=USER, rows=library(), now=datetime(2026, 7, 1))
    assert again.imported_games_created == 0
    rows = table(engine, "ImportedGame")
    assert sorted(r["storefrontGameId"] for r in rows) == ["10", "20", "30", "50"]
    assert [r["deletedAt"] for r in rows if r["storefrontGameId"] == "20"] == [NOW]
    engine.dispose()


def test_statements_per_import_do_not_grow_with_the_library(app_db: tuple[str, str]) -> None:
    from tests.integration.app_schemas.conftest import PROFILES
    from tests.integration.db.helpers import counting_statements

    profile, url = app_db
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(f'INSERT INTO "{PROFILES[profile]}" (id, "updatedAt") VALUES (:id, :now)'),
            {"id": "cappuser000000000000000002", "now": NOW},
        )
    engine.dispose()
    counts: dict[str, list[int]] = {}
    for user, size in ((USER, 10), ("cappuser000000000000000002", 2_000)):
        engine = create_engine(url)  # each its own cold process: reflection included in both
        rows_ = [row(appid, playtime=appid % 50) for appid in range(1, size + 1)]
        bumped = [row(appid, playtime=appid % 50 + 5) for appid in range(1, size + 1)]
        for phase, batch in (("first", rows_), ("unchanged", rows_), ("changed", bumped)):
            with counting_statements(engine) as seen:
                import_rows(engine, user_id=user, rows=batch, now=NOW)
            counts.setdefault(phase, []).append(len(seen))
        engine.dispose()
    assert all(small == large for small, large in counts.values()), counts
