"""Shared pieces of the reliability suite: the figures it prints, a PostgreSQL helper, database
snapshots that ignore generated ids and timestamps, and a harness that runs the real pipeline."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from tests.figures import FIGURES as FIGURES  # the suite's figures, for its tests
from tests.figures import Figures as Figures
from tests.integration.databases import PostgresServer
from tests.integration.databases import empty_tables as empty_tables  # for the suite's tests

from lambdas.clients.s3 import Storage
from lambdas.config import Settings
from lambdas.database.users import ensure_user
from lambdas.errors import all_error_types
from lambdas.pipeline import PipelineResult, Stage, run_pipeline
from lambdas.sql.engine import create_engine
from lambdas.stages import StageContext
from steam_sandbox import Sandbox

USER = "rel-user-1"
LIBRARY = "medium"  # 500 apps: every kind of row, one IGDB multiquery


# -- figures -------------------------------------------------------------------------------------

# They live in tests/figures.py, imported above: the root conftest merges xdist workers' figures.

PostgresDatabases = PostgresServer  # the reliability suite's name for the shared helper


# -- database snapshots --------------------------------------------------------------------------

# Every business column, with generated ids replaced by natural keys; createdAt/updatedAt left out.
_SNAPSHOT_QUERIES: dict[str, str] = {
    "User": 'SELECT id, "steamId64" FROM "User"',
    "ImportedGame": (
        'SELECT "userId", "storefrontGameId", name, storefront::text, playtime, '
        '"playtimeWindows", "playtimeMac", "playtimeLinux", "lastPlayedAt", img_icon_url, '
        'img_logo_url, "igdbMatchStatus"::text, "deletedAt" IS NULL FROM "ImportedGame"'
    ),
    "Game": (
        'SELECT "igdbId", title, slug, description, "coverImage", "releaseDate", "steamAppId", '
        '"franchiseId", "hltbId" FROM "Game"'
    ),
    "Genre": 'SELECT "igdbId", name, slug, checksum FROM "Genre"',
    "Platform": (
        'SELECT "igdbId", name, slug, abbreviation, "alternativeName", generation, '
        '"platformFamily", "platformType", checksum FROM "Platform"'
    ),
    "GameGenre": (
        'SELECT g."igdbId", n."igdbId" FROM "GameGenre" gg JOIN "Game" g ON g.id = gg."gameId" '
        'JOIN "Genre" n ON n.id = gg."genreId"'
    ),
    "GamePlatform": (
        'SELECT g."igdbId", p."igdbId" FROM "GamePlatform" gp JOIN "Game" g ON g.id = gp."gameId" '
        'JOIN "Platform" p ON p.id = gp."platformId"'
    ),
    "LibraryItem": (
        'SELECT l."userId", g."igdbId", l.status::text, l.platform, l."acquisitionType"::text '
        'FROM "LibraryItem" l JOIN "Game" g ON g.id = l."gameId"'
    ),
}

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(engine: Engine) -> Snapshot:
    """The database's content, order- and id-independent, comparable between runs."""
    with engine.connect() as connection:
        return {
            table: sorted(
                (tuple(row) for row in connection.execute(text(query))),
                key=repr,
            )
            for table, query in _SNAPSHOT_QUERIES.items()
        }


def rows_in(state: Snapshot) -> int:
    return sum(len(found) for table, found in state.items() if table != "User")


def rows_missing(expected: Snapshot, actual: Snapshot) -> int:
    """Rows of `expected` (other than users) that `actual` lacks or holds differently."""
    missing = 0
    for table, rows in expected.items():
        if table == "User":
            continue
        have = Counter(actual.get(table, []))
        for row in rows:
            if have[row] > 0:
                have[row] -= 1
            else:
                missing += 1
    return missing


def differences(expected: Snapshot, actual: Snapshot) -> dict[str, Any]:
    """A short per-table account of what differs, for assertion messages."""
    found: dict[str, Any] = {}
    for table in expected:
        want, have = Counter(expected[table]), Counter(actual.get(table, []))
        if want != have:
            found[table] = {
                "missing": list((want - have).elements())[:3],
                "unexpected": list((have - want).elements())[:3],
            }
    return found


# -- the pipeline harness ------------------------------------------------------------------------


def sandbox_settings(sandbox: Sandbox, data_dir: Path, **overrides: Any) -> Settings:
    """Sandbox URLs and credentials, quick retries, short timeouts (faults must end quickly)."""
    values: dict[str, Any] = {
        **{name.lower(): value for name, value in sandbox.env().items()},
        "data_dir": data_dir,
        "retry_initial_wait_seconds": 0.01,
        "retry_max_wait_seconds": 0.2,
        "http_connect_timeout": 2.0,
        "http_read_timeout": 2.0,
        "igdb_max_attempts": 4,
        "steam_max_attempts": 4,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Harness:
    """Runs the real pipeline against the sandbox, a storage and the suite's database."""

    sandbox: Sandbox
    engine: Engine
    db_url: str
    storage: Storage
    settings: Settings
    runs: int = 0
    first_events: dict[str, dict[str, Any]] = field(default_factory=dict)

    def context(self, **overrides: Any) -> StageContext:
        settings = self.settings
        if overrides:
            settings = Settings(**{**self.settings.model_dump(), **overrides})
        return StageContext(settings=settings, storage=self.storage, engine=self.engine)

    def steam_id(self, kind: str = LIBRARY) -> str:
        return str(self.sandbox.users.by_name(kind).steamid64)

    def ensure_user(self, user_id: str = USER) -> None:
        ensure_user(self.engine, user_id=user_id, create=True)

    def run(
        self,
        *,
        user_id: str = USER,
        kind: str = LIBRARY,
        from_stage: Stage = Stage.STEAM,
        event: dict[str, Any] | None = None,
        context: StageContext | None = None,
        on_stage: Any = None,
        refresh: bool = False,
    ) -> PipelineResult:
        """One pipeline run; a fresh import id each time, as a new execution would have."""
        self.runs += 1
        first = event or {"user_id": user_id, "steam_id64": self.steam_id(kind)}
        if refresh:
            first = {**first, "refresh_metadata": True}
        import_id = f"rel{self.runs:04d}{secrets.token_hex(3)}"
        self.first_events[import_id] = first
        return asyncio.run(
            run_pipeline(
                first_event=first,
                context=context or self.context(),
                import_id=import_id,
                from_stage=from_stage,
                on_stage=on_stage,
            )
        )

    def snapshot(self) -> Snapshot:
        return snapshot(self.engine)

    def stored_keys(self, user_id: str = USER) -> list[str]:
        return self.storage.list_keys(f"imports/{user_id}/")

    def retry(
        self, failed: PipelineResult, *, context: StageContext | None = None
    ) -> PipelineResult:
        """What Step Functions' Retry does: run the failed stage again with the event it got
        (the previous stage's response, or the first event), then the stages after it."""
        run = failed.failed
        assert run is not None, "only a failed run is retried"
        event = self.event_for(failed, run.stage)
        return self.run(from_stage=run.stage, event=event, context=context)

    def event_for(self, result: PipelineResult, stage: Stage) -> dict[str, Any]:
        if result.runs and result.runs[0].stage is stage:
            return self.first_events[result.import_id]
        order = [Stage.STEAM, Stage.ENRICH, Stage.LOAD]
        response = result.response(order[order.index(stage) - 1])
        dumped: dict[str, Any] = response.model_dump(mode="json")
        return dumped


KNOWN_CODES = frozenset(error.code for error in all_error_types())


def outcome(result: PipelineResult) -> str:
    """`success`, or the failed stage's typed error code (an unknown code fails the test)."""
    failed = result.failed
    if failed is None:
        assert result.success
        return "success"
    code = failed.response.error_code
    assert code in KNOWN_CODES, f"untyped failure: {result.as_dict()}"
    assert failed.response.error, f"a failure without a message: {result.as_dict()}"
    return str(code)


class BackendKiller:
    """Terminates the engine's PostgreSQL backend from a second connection just before the first
    statement that contains `marker` (once), while stage 3's transaction is open."""

    def __init__(self, engine: Engine, url: str, marker: str) -> None:
        self.engine = engine
        self.marker = marker
        self.killer = create_engine(url)
        self.fired = False

    def __call__(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.fired or self.marker not in statement:
            return
        self.fired = True
        pid = conn.connection.dbapi_connection.info.backend_pid
        with self.killer.connect() as other:
            other.exec_driver_sql("SELECT pg_terminate_backend(%(pid)s)", {"pid": pid})

    def __enter__(self) -> BackendKiller:
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self)
        self.killer.dispose()
