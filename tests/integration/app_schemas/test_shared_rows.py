"""One user's file never changes the rows other users see (issue 25, part 1).

Two users share a database: `alice` imports her Steam library normally; `mallory` then loads an
enriched CSV she made by hand (`steam-import load --user-id mallory --location …`) that renames a
Genre and a Platform, re-keys Alice's Game (found by its Steam app id) onto a made-up IGDB id,
creates Games under made-up IGDB ids and, pre-emptively, rewrites the title, description and cover
of a real IGDB game Alice has not imported yet. Alice then buys that game and imports again, also
with `--refresh-metadata`. Every Game, Genre and Platform row Alice's library points to must be
exactly what the same imports give without Mallory, and each of Alice's games has one library
item. Run on the standalone schema (SQLite) and on both app schemas (PostgreSQL)."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.engine import Engine
from tests.integration.app_schemas.conftest import NOW, PROFILES
from tests.integration.databases import PostgresServer
from typer.testing import CliRunner

from lambdas.cli import app
from lambdas.config import reset_settings
from lambdas.models.csv_codec import encode_rows
from lambdas.models.rows import (
    AppKind,
    EnrichedGameRow,
    GenreRef,
    MatchMethod,
    MatchStatus,
    PlatformRef,
)
from lambdas.sql.engine import create_engine
from steam_sandbox import Sandbox
from steam_sandbox.models import SandboxUser
from steam_sandbox.users import STEAMID64_BASE

ALICE, MALLORY = "alice", "mallory"
MADE_UP = (990_001, 990_002)
HIJACK_TITLE = "HIJACKED: visit evil.example"


def _cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    reset_settings()  # settings are read once per process; each command here is a new process
    result = CliRunner().invoke(app, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def _database(kind: str, pg_server: PostgresServer, folder: Path) -> tuple[str, list[str]]:
    """A database of `kind` with both users; the extra `run` arguments it needs."""
    if kind == "standalone-sqlite":
        url = f"sqlite:///{folder / 'shared.db'}"
        _cli({"DATABASE_URL": url, "DATA_DIR": str(folder)}, "db", "upgrade")
        engine = create_engine(url)
        statement = 'INSERT INTO "User" (id, "updatedAt") VALUES (:id, :now)'
        extra = ["--create-user"]
    else:
        url = pg_server.create()
        ddl = (files("tests") / "app_schemas" / f"{kind.replace('-', '_')}.sql").read_text()
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.exec_driver_sql(ddl)
        statement = f'INSERT INTO "{PROFILES[kind]}" (id, "updatedAt") VALUES (:id, :now)'
        extra = []
    with engine.begin() as connection:
        for user in (ALICE, MALLORY):
            # typed: SQLAlchemy formats the time, not sqlite3's adapter (deprecated since 3.12)
            insert = text(statement).bindparams(bindparam("now", type_=DateTime()))
            connection.execute(insert, {"id": user, "now": NOW})
    engine.dispose()
    return url, extra


def _alices_view(engine: Engine) -> dict[str, Any]:
    """Everything Alice's library points to, by natural keys (no generated ids or times)."""
    with engine.connect() as connection:
        items = (
            connection.execute(
                text('SELECT "gameId" FROM "LibraryItem" WHERE "userId" = :user'), {"user": ALICE}
            )
            .scalars()
            .all()
        )
        games = (
            connection.execute(
                text(
                    'SELECT id, "igdbId", title, description, "coverImage", "releaseDate", slug, '
                    '"steamAppId" FROM "Game"'
                )
            )
            .mappings()
            .all()
        )
        genres = connection.execute(
            text(
                'SELECT gg."gameId", g."igdbId", g.name, g.slug FROM "GameGenre" gg '
                'JOIN "Genre" g ON g.id = gg."genreId"'
            )
        ).all()
        platforms = connection.execute(
            text(
                'SELECT gp."gameId", p."igdbId", p.name, p.slug FROM "GamePlatform" gp '
                'JOIN "Platform" p ON p.id = gp."platformId"'
            )
        ).all()
    mine = set(items)
    return {
        "items": len(items),
        "items per game": sorted(Counter(items).values()),
        "games": {
            game["igdbId"]: {
                **{k: str(v) for k, v in game.items() if k not in {"id", "igdbId"}},
                "genres": sorted((g[1], g[2], g[3]) for g in genres if g[0] == game["id"]),
                "platforms": sorted((p[1], p[2], p[3]) for p in platforms if p[0] == game["id"]),
            }
            for game in games
            if game["id"] in mine
        },
    }


def _made_up_games(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text('SELECT "igdbId" FROM "Game" WHERE "igdbId" IN (:a, :b)'),
                {"a": MADE_UP[0], "b": MADE_UP[1]},
            ).scalars()
        )


def _crafted_csvs(engine: Engine, later: tuple[int, int]) -> list[bytes]:
    """Mallory's hand-made enriched CSVs, aimed at what Alice's first import stored: the second
    puts a new Game under the IGDB id the first moved Alice's Game away from."""
    with engine.connect() as connection:
        victim = connection.execute(
            text(
                'SELECT g."steamAppId", g."igdbId", ge."igdbId" FROM "LibraryItem" l '
                'JOIN "Game" g ON g.id = l."gameId" JOIN "GameGenre" gg ON gg."gameId" = g.id '
                'JOIN "Genre" ge ON ge.id = gg."genreId" '
                'WHERE l."userId" = :user AND g."steamAppId" IS NOT NULL ORDER BY g."igdbId"'
            ),
            {"user": ALICE},
        ).first()
        platform = (
            connection.execute(  # the one today's app writes on every library item
                text(
                    'SELECT "igdbId" FROM "Platform" ORDER BY '
                    "CASE WHEN name = 'PC (Microsoft Windows)' THEN 0 ELSE 1 END, \"igdbId\""
                )
            )
            .scalars()
            .first()
        )
    assert victim is not None and platform is not None
    app_id, game_id, genre_id = victim
    pwned = [GenreRef(id=genre_id, name="PWNED GENRE", slug="pwned-genre")]
    evil = [PlatformRef(id=platform, name="Evil OS", slug="evil-os")]

    def matched(appid: int, igdb_id: int, title: str, **more: Any) -> EnrichedGameRow:
        return EnrichedGameRow(
            appid=appid, name=f"App {appid}", playtime_forever=60, kind=AppKind.GAME,
            classifier_rule="default", match_status=MatchStatus.MATCHED,
            match_method=MatchMethod.STEAM_APP_ID, igdb_id=igdb_id, igdb_name=title,
            genres=pwned, platforms=evil, **more,
        )  # fmt: skip

    first = [
        matched(app_id, MADE_UP[0], "Re-keyed by Mallory"),  # Alice's Game, by its Steam app id
        matched(4_000_000_002, MADE_UP[1], "Made up"),
        matched(
            later[0],
            later[1],
            HIJACK_TITLE,
            igdb_summary="Your account is at risk: log in at evil.example",
            cover_url="https://images.igdb.com/igdb/image/upload/t_cover_big/evil.jpg",
            igdb_slug="hijacked",
        ),
    ]
    second = [matched(4_000_000_001, game_id, "Twin")]
    return [encode_rows(rows, EnrichedGameRow) for rows in (first, second)]


def _scenario(
    sandbox: Sandbox, kind: str, pg_server: PostgresServer, folder: Path, *, attacked: bool
) -> dict[str, Any]:
    folder.mkdir()
    url, extra = _database(kind, pg_server, folder)
    env = {**sandbox.env(), "DATA_DIR": str(folder / "data"), "DATABASE_URL": url}
    env["RETRY_INITIAL_WAIT_SECONDS"] = "0.01"
    libraries = sandbox.state.libraries
    owned = [game.app.appid for game in libraries.library(sandbox.users.small)]
    truth = {a.appid: a for a in sandbox.ground_truth("small")}
    igdb_count = Counter(a.igdb_id for a in truth.values() if a.status is MatchStatus.MATCHED)
    later = next(
        (a.appid, a.igdb_id)
        for a in truth.values()
        if a.status is MatchStatus.MATCHED and a.igdb_id is not None and igdb_count[a.igdb_id] == 1
    )
    account = STEAMID64_BASE + 902_000 + zlib.crc32(f"{kind}{attacked}".encode()) % 1000
    steam = str(account)

    def own(apps: list[int]) -> None:
        user = SandboxUser("alice", steam, None, "Alice", 3, True, True, len(apps), len(apps))
        libraries.add(user, apps)

    own([appid for appid in owned if appid != later[0]])  # Alice buys `later` after Mallory
    assert _cli(env, "run", "--user-id", ALICE, "--steam", steam, *extra)["success"]
    engine = create_engine(url)
    try:
        if attacked:
            prefix = folder / "data" / "imports" / MALLORY
            prefix.mkdir(parents=True)
            for number, data in enumerate(_crafted_csvs(engine, later)):
                crafted = prefix / f"2026010{number + 1}T000000000000Z-x-enriched.csv"
                crafted.write_bytes(data)
                loaded = _cli(env, "load", "--user-id", MALLORY, "--location", str(crafted))
                assert loaded["stats"]["catalogue_verified"] is False, loaded
            assert _made_up_games(engine) == []
        own(owned)
        assert _cli(env, "run", "--user-id", ALICE, "--steam", steam)["success"]
        assert _cli(env, "run", "--user-id", ALICE, "--steam", steam, "--refresh-metadata")[
            "success"
        ]
        view = _alices_view(engine)
        assert _made_up_games(engine) == []
        # Exactly the IGDB games her matched apps stand for, each once in her library.
        games = {a.igdb_id for a in truth.values() if a.status is MatchStatus.MATCHED}
        assert later[1] in games
        assert set(view["games"]) == games
        assert view["items"] == len(games)
        return view
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["standalone-sqlite", *sorted(PROFILES)])
def test_another_users_hand_made_csv_changes_no_row_alices_library_points_to(
    kind: str, fresh_sandbox: Sandbox, pg_server: PostgresServer, tmp_path: Path
) -> None:
    alone = _scenario(fresh_sandbox, kind, pg_server, tmp_path / "alone", attacked=False)
    attacked = _scenario(fresh_sandbox, kind, pg_server, tmp_path / "attacked", attacked=True)
    assert attacked == alone
    assert set(attacked["items per game"]) == {1}
    names = json.dumps(attacked)
    assert "PWNED" not in names and "Evil OS" not in names and HIJACK_TITLE not in names
