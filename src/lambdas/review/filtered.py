"""The filtered list: apps stage 3 left out as non-games, and `keep`, which makes one a game."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.engine import Engine

from lambdas.clients.igdb import IgdbClient
from lambdas.clients.s3 import (
    Storage,
    forget_library_state,
    storage_from_settings,
    validate_user_id,
)
from lambdas.config import Settings
from lambdas.database.loader import create_library_item, upsert_game, upsert_imported_game
from lambdas.database.users import ensure_user
from lambdas.enrichment.matching import build_row, decide_title_match, title_variants
from lambdas.enrichment.precedence import decide
from lambdas.enrichment.ranking import choose_entry
from lambdas.errors import ImportedGameNotFoundError, PipelineError
from lambdas.models.app_cache import IgdbAnswer
from lambdas.models.igdb import IgdbGame
from lambdas.models.rows import Candidate, EnrichedGameRow, MatchMethod, MatchStatus
from lambdas.sql.engine import database_errors
from lambdas.state.app_cache import SqlAppCache
from lambdas.state.filtered import FilteredApp, keep_app, kept_app_ids, list_filtered
from lambdas.state.placement import KEEP as KEEP_PLACED
from lambdas.state.placement import WishlistedApp, list_wishlist, record_on_request
from lambdas.state.schema import require_own_state

log = structlog.get_logger()

__all__ = ["FilteredApp", "KeepResult", "keep_filtered_app", "list_filtered_apps"]


@dataclass(frozen=True, slots=True)
class KeepResult:
    app_id: int
    name: str
    status: str
    igdb_id: int | None
    library_item_created: bool


def list_filtered_apps(engine: Engine, *, user_id: str) -> list[FilteredApp]:
    """The user's filtered apps with kind and reason, as the latest import recorded them.

    OWN_STATE_MISSING when own state is missing or behind (`steam-import db own-state`).
    """
    ensure_user(engine, user_id=user_id, create=False)
    with database_errors(), engine.connect() as connection:
        require_own_state(connection)
        return list_filtered(connection, user_id)


def list_wishlisted_apps(engine: Engine, *, user_id: str) -> list[WishlistedApp]:
    """The user's Steam wishlist as the latest import recorded it, by priority, each app with its
    decision (added, in library, removed by user, not added, owned, unmatched, filtered).

    OWN_STATE_MISSING when own state is missing or behind (`steam-import db own-state`).
    """
    ensure_user(engine, user_id=user_id, create=False)
    with database_errors(), engine.connect() as connection:
        require_own_state(connection)
        return list_wishlist(connection, user_id)


async def keep_filtered_app(
    engine: Engine,
    igdb: IgdbClient,
    *,
    user_id: str,
    app_id: int,
    settings: Settings,
    storage: Storage | None = None,
) -> KeepResult:
    """Make a filtered app a game for good: matched to IGDB by its app id (or its exact title,
    as stage 2 would) or left for review, written now, and kept a game by every later import.

    GAME_NOT_FOUND when the user has no such filtered app; keeping a kept app again is a no-op.
    OWN_STATE_MISSING when own state is missing or behind (`steam-import db own-state`).
    """
    validate_user_id(user_id)
    ensure_user(engine, user_id=user_id, create=False)
    with database_errors(), engine.connect() as connection:
        require_own_state(connection)
        listed = [app for app in list_filtered(connection, user_id) if app.app_id == app_id]
        already = app_id in kept_app_ids(connection, user_id)
    if not listed:
        if already:
            return KeepResult(app_id, "", "KEPT", None, library_item_created=False)
        raise ImportedGameNotFoundError(f"user {user_id!r} has no filtered Steam app {app_id}")
    app = listed[0]
    now = datetime.now(UTC)
    answer = await _igdb_answer(engine, igdb, app, settings=settings, now=now)
    row = _kept_row(app, answer, fallback=settings.title_fallback, now=now)
    stamp = now.replace(tzinfo=None)
    created = False
    with database_errors(), engine.begin() as connection:
        keep_app(connection, user_id, app_id, now=now)
        upsert_imported_game(connection, row, user_id=user_id, now=stamp)
        if row.match_status is MatchStatus.MATCHED:
            upsert_game(connection, row, now=stamp)
            created = create_library_item(
                connection,
                row,
                user_id=user_id,
                status_unplayed=settings.library_status_unplayed,
                status_played=settings.library_status_played,
                now=stamp,
            )
            record_on_request(connection, user_id, app_id, source=KEEP_PLACED, now=stamp)
    # The next import decides the app again as kept (the state cannot see a keep).
    try:
        forget_library_state(storage or storage_from_settings(settings), user_id)
    except PipelineError as exc:
        log.warning("review.state_not_forgotten", error_code=exc.code, error=exc.message)
    log.info("review.kept", app_id=app_id, status=row.match_status.value, igdb_id=row.igdb_id)
    return KeepResult(app_id, app.name, row.match_status.value, row.igdb_id, created)


async def _igdb_answer(
    engine: Engine, igdb: IgdbClient, app: FilteredApp, *, settings: Settings, now: datetime
) -> IgdbAnswer:
    """The shared cache's answer for the app when fresh, else IGDB's (stored for everyone)."""
    cache = SqlAppCache(engine)
    cached = cache.get_igdb(
        [app.app_id],
        now=now,
        positive_ttl=timedelta(days=settings.enrichment_reuse_days),
        negative_ttl=timedelta(hours=settings.unmatched_recheck_hours),
    ).get(app.app_id)
    if cached is not None and (cached.games or cached.titles_for(app.name) is not None):
        return cached
    variants = title_variants(app.name) if settings.title_fallback else []
    lookup = await igdb.lookup_steam_apps([app.app_id], titles=variants)
    titles = tuple(game for variant in variants for game in lookup.by_title.get(variant, []))
    answer = IgdbAnswer(
        tuple(lookup.by_app_id.get(app.app_id, ())),
        title_name=app.name if settings.title_fallback else None,
        title_games=titles if settings.title_fallback else None,
    )
    cache.put_igdb({app.app_id: answer}, now=now)
    return answer


def _kept_row(
    app: FilteredApp, answer: IgdbAnswer, *, fallback: bool, now: datetime
) -> EnrichedGameRow:
    decision = decide(name=app.name, store=None, igdb_entry=None, kept=True)
    chosen: IgdbGame | None = choose_entry(answer.games)
    method = MatchMethod.STEAM_APP_ID
    candidates: list[Candidate] = []
    if chosen is None and fallback:
        chosen, candidates = decide_title_match(app.name, answer.titles_for(app.name) or ())
        method = MatchMethod.TITLE
    return build_row(
        app.raw,
        decision.classification(),
        game=chosen,
        method=method if chosen is not None else MatchMethod.NONE,
        candidates=candidates,
        now=now,
        reason=decision.reason,
        steam_type=app.steam_type,
        refine=False,
    )
