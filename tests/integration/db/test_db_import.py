"""Stage 3's rules, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from tests.integration.db.conftest import add_user
from tests.integration.db.helpers import count, counts, one, rows
from tests.unit.db.factories import GENRES, PLATFORMS, library, row

from lambdas.database.loader import (
    ImportStats,
    LoadOptions,
    create_library_item,
    import_rows,
    upsert_game,
    upsert_genre,
    upsert_imported_game,
    upsert_platform,
)
from lambdas.errors import SchemaDriftError, UserNotFoundError
from lambdas.models.db import Game, ImportedGame, LibraryItem
from lambdas.models.rows import MatchStatus

T0 = datetime(2025, 1, 2, 3, 4, 5, 678000)
T1 = datetime(2025, 2, 3, 4, 5, 6, 789000)


def test_first_import_writes_every_table_with_hard_names(engine: Engine, user_id: str) -> None:
    given = library(60)
    stats = import_rows(engine, user_id=user_id, rows=given, now=T0)
    written = [r for r in given if r.match_status is not MatchStatus.FILTERED]
    matched = [r for r in written if r.match_status is MatchStatus.MATCHED]
    assert stats == ImportStats(
        imported_games_created=len(written),
        games_created=len(matched),
        library_items_created=len(matched),
    )
    stored = {r["storefrontGameId"]: r for r in rows(engine, "ImportedGame")}
    for source in written:
        record = stored[str(source.appid)]
        assert record["name"] == source.name
        assert record["userId"] == user_id
        assert record["storefront"] == "STEAM"
        assert record["playtime"] == source.playtime_forever
        assert record["playtimeWindows"] == source.playtime_windows_forever
        assert record["playtimeLinux"] == source.playtime_linux_forever
        assert record["igdbMatchStatus"] == source.match_status.value
        assert record["createdAt"] == record["updatedAt"] == T0
        assert len(record["id"]) == 25
    assert {g["title"] for g in rows(engine, "Game")} == {r.igdb_name for r in matched}
    assert {(g["igdbId"], g["name"], g["slug"]) for g in rows(engine, "Genre")} == {
        (g.id, g.name, g.slug) for g in GENRES
    }
    assert {p["name"] for p in rows(engine, "Platform")} == {p.name for p in PLATFORMS}
    expected_links = sum(len(r.genres) for r in matched)
    assert count(engine, "GameGenre") == expected_links


def test_filtered_rows_are_never_written(engine: Engine, user_id: str) -> None:
    import_rows(engine, user_id=user_id, rows=[row(10, status=MatchStatus.FILTERED)])
    assert count(engine, "ImportedGame") == count(engine, "Game") == 0


def test_rerun_of_the_same_rows_changes_and_creates_nothing(engine: Engine, user_id: str) -> None:
    given = library(40)
    import_rows(engine, user_id=user_id, rows=given, now=T0)
    before = {name: rows(engine, name) for name in ("ImportedGame", "Game", "LibraryItem")}
    stats = import_rows(engine, user_id=user_id, rows=given, now=T1)
    assert stats == ImportStats()
    after = {name: rows(engine, name) for name in ("ImportedGame", "Game", "LibraryItem")}
    assert after == before


def test_changed_playtime_updates_the_import_but_not_the_library(
    engine: Engine, user_id: str
) -> None:
    import_rows(engine, user_id=user_id, rows=[row(1), row(2)], now=T0)
    stats = import_rows(
        engine,
        user_id=user_id,
        rows=[row(1, windows=90, last_played=1_700_000_000), row(2)],
        now=T1,
    )
    assert stats == ImportStats(imported_games_updated=1)
    record = one(engine, "ImportedGame", storefrontGameId="1")
    assert (record["playtime"], record["playtimeWindows"], record["updatedAt"]) == (90, 90, T1)
    assert record["lastPlayedAt"] == datetime(2023, 11, 14, 22, 13, 20)
    assert record["createdAt"] == T0
    assert {item["status"] for item in rows(engine, "LibraryItem")} == {"CURIOUS_ABOUT"}


def test_ignored_rows_stay_ignored_and_stay_out_of_the_library(
    engine: Engine, user_id: str
) -> None:
    import_rows(engine, user_id=user_id, rows=[row(1, status=MatchStatus.UNMATCHED)])
    with engine.begin() as connection:
        connection.execute(update(ImportedGame).values(igdbMatchStatus="IGNORED"))
    import_rows(engine, user_id=user_id, rows=[row(1, windows=5)])
    assert one(engine, "ImportedGame")["igdbMatchStatus"] == "IGNORED"
    assert one(engine, "ImportedGame")["playtime"] == 5
    assert count(engine, "LibraryItem") == 0


def test_soft_deleted_rows_are_left_alone(engine: Engine, user_id: str) -> None:
    import_rows(engine, user_id=user_id, rows=[row(1, status=MatchStatus.UNMATCHED)], now=T0)
    with engine.begin() as connection:
        connection.execute(update(ImportedGame).values(deletedAt=T0))
    stats = import_rows(engine, user_id=user_id, rows=[row(1, windows=50)], now=T1)
    record = one(engine, "ImportedGame")
    assert (record["deletedAt"], record["playtime"], record["igdbMatchStatus"]) == (
        T0,
        0,
        "UNMATCHED",
    )
    assert stats.imported_games_created == stats.imported_games_updated == 0
    assert count(engine, "LibraryItem") == 0


def test_a_match_is_not_undone_by_a_run_that_could_not_match(engine: Engine, user_id: str) -> None:
    import_rows(engine, user_id=user_id, rows=[row(1)])
    import_rows(engine, user_id=user_id, rows=[row(1, status=MatchStatus.UNMATCHED)])
    assert one(engine, "ImportedGame")["igdbMatchStatus"] == "MATCHED"


def test_game_values_are_never_erased_by_null(engine: Engine, user_id: str) -> None:
    import_rows(engine, user_id=user_id, rows=[row(1, igdb_name="Old title")], now=T0)
    stats = import_rows(
        engine,
        user_id=user_id,
        rows=[row(1, igdb_name="New title", summary=None, cover=None, release=None)],
        now=T1,
    )
    game = one(engine, "Game")
    assert stats.games_updated == 1
    assert game["title"] == "New title"
    assert game["description"] is not None and game["coverImage"] is not None
    assert game["releaseDate"] == datetime(2008, 1, 10, 21, 20)
    assert game["updatedAt"] == T1


def test_fields_other_pipelines_own_are_never_touched(engine: Engine, user_id: str) -> None:
    import_rows(engine, user_id=user_id, rows=[row(1)])
    owned = {"hltbId": "hltb-1", "mainStory": 10, "mainExtra": 20, "completionist": 30}
    with engine.begin() as connection:
        connection.execute(update(Game).values(**owned))
    import_rows(engine, user_id=user_id, rows=[row(1, igdb_name="Renamed")])
    game = one(engine, "Game")
    assert {key: game[key] for key in owned} == owned


def _existing_game(engine: Engine, **values: object) -> None:
    base = {"id": "cgame00000000000000000001", "title": "Existing", "updatedAt": T0}
    with engine.begin() as connection:
        connection.execute(insert(Game).values(**(base | values)))


def test_slug_collisions_are_resolved_deterministically(engine: Engine, user_id: str) -> None:
    _existing_game(engine, igdbId=1, slug="portal")
    rows_ = [row(3, igdb_id=30, slug="portal"), row(2, igdb_id=20, slug="portal")]
    import_rows(engine, user_id=user_id, rows=rows_)
    slugs = {g["igdbId"]: g["slug"] for g in rows(engine, "Game")}
    assert slugs == {1: "portal", 20: "portal-20", 30: "portal-30"}


def test_an_existing_game_is_never_given_another_igdb_id(engine: Engine, user_id: str) -> None:
    # Another user's library items share the Game of Steam app 400: a row that matches the app to
    # another IGDB id adds that Game, and never re-points the existing one (was: re-keyed to 51).
    _existing_game(engine, igdbId=50, slug="old-slug", steamAppId=400)
    stats = import_rows(engine, user_id=user_id, rows=[row(400, igdb_id=51, igdb_name="Merged")])
    games = {g["igdbId"]: g for g in rows(engine, "Game")}
    assert (games[50]["title"], games[50]["slug"]) == ("Existing", "old-slug")
    assert (games[51]["title"], games[51]["steamAppId"]) == ("Merged", 400)
    assert (stats.games_created, stats.games_updated, stats.library_items_created) == (1, 0, 1)


def test_a_game_this_import_still_writes_is_not_re_keyed(engine: Engine, user_id: str) -> None:
    _existing_game(engine, igdbId=50, slug="kept", steamAppId=400)
    stats = import_rows(engine, user_id=user_id, rows=[row(400, igdb_id=51), row(401, igdb_id=50)])
    assert {(g["igdbId"], g["steamAppId"]) for g in rows(engine, "Game")} == {(50, 400), (51, 400)}
    assert stats.games_created == 1


def test_library_items_status_platform_and_acquisition(engine: Engine, user_id: str) -> None:
    import_rows(engine, user_id=user_id, rows=[row(1), row(2, mac=30, deck=45, windows=10)])
    items = {item["gameId"]: item for item in rows(engine, "LibraryItem")}
    games = {g["igdbId"]: g["id"] for g in rows(engine, "Game")}
    unplayed, played = items[games[100_001]], items[games[100_002]]
    assert (unplayed["status"], unplayed["platform"]) == ("CURIOUS_ABOUT", None)
    assert (played["status"], played["platform"]) == ("EXPERIENCED", "Steam Deck")
    assert {item["acquisitionType"] for item in items.values()} == {"DIGITAL"}
    assert {item["userId"] for item in items.values()} == {user_id}


def test_configured_statuses_are_used(engine: Engine, user_id: str) -> None:
    import_rows(
        engine,
        user_id=user_id,
        rows=[row(1), row(2, windows=1)],
        options=LoadOptions(status_unplayed="WISHLIST", status_played="REVISITING"),
    )
    assert sorted(item["status"] for item in rows(engine, "LibraryItem")) == [
        "REVISITING",
        "WISHLIST",
    ]


def test_a_configured_status_the_enum_lacks_is_schema_drift(engine: Engine, user_id: str) -> None:
    with pytest.raises(SchemaDriftError, match="PLAYED"):
        import_rows(
            engine, user_id=user_id, rows=[row(1)], options=LoadOptions(status_played="PLAYED")
        )
    assert counts(engine)["ImportedGame"] == 0


def test_an_existing_library_item_is_never_modified_or_duplicated(
    engine: Engine, user_id: str
) -> None:
    import_rows(engine, user_id=user_id, rows=[row(1)])
    with engine.begin() as connection:
        connection.execute(update(LibraryItem).values(status="WISHLIST", platform="Mine"))
    stats = import_rows(engine, user_id=user_id, rows=[row(1, windows=500)])
    item = one(engine, "LibraryItem")
    assert (item["status"], item["platform"], stats.library_items_created) == (
        "WISHLIST",
        "Mine",
        0,
    )


def test_library_items_are_per_user(engine: Engine, user_id: str) -> None:
    other = add_user(engine, "cuser0000000000000000000002")
    import_rows(engine, user_id=user_id, rows=[row(1)])
    stats = import_rows(engine, user_id=other, rows=[row(1)])
    assert stats == ImportStats(imported_games_created=1, library_items_created=1)
    assert count(engine, "Game") == 1 and count(engine, "LibraryItem") == 2


def test_several_apps_of_one_game_make_one_library_item(engine: Engine, user_id: str) -> None:
    stats = import_rows(engine, user_id=user_id, rows=[row(1, igdb_id=9), row(2, igdb_id=9)])
    assert (stats.games_created, stats.library_items_created) == (1, 1)
    assert one(engine, "Game")["steamAppId"] == 1


def test_unknown_user_is_user_not_found_and_nothing_is_written(engine: Engine) -> None:
    with pytest.raises(UserNotFoundError):
        import_rows(engine, user_id="cnobody000000000000000000", rows=library(20))
    assert set(counts(engine).values()) == {0}


def test_single_row_wrappers(engine: Engine, user_id: str) -> None:
    with engine.begin() as connection:
        upsert_genre(connection, GENRES[0], now=T0)
        upsert_platform(connection, PLATFORMS[0], now=T0)
        imported_id = upsert_imported_game(connection, row(7), user_id=user_id, now=T0)
        game_id = upsert_game(connection, row(7), now=T0)
        created = create_library_item(connection, row(7), user_id=user_id, now=T0)
        again = create_library_item(connection, row(7), user_id=user_id, now=T0)
        unchanged = upsert_imported_game(connection, row(7), user_id=user_id, now=T1)
    assert imported_id is not None and game_id is not None
    assert (created, again, unchanged) == (True, False, None)
    assert one(engine, "LibraryItem")["gameId"] == game_id
    assert count(engine, "Genre") == count(engine, "GameGenre") == len(row(7).genres) == 2
