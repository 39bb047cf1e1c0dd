"""IGDB's `/multiquery` protocol: planning sub-queries, writing the request body, reading answers.

Bulk lookups are planned as sub-queries (at most `MAX_KEYS_PER_SUBQUERY` keys each, spread evenly)
packed `MAX_SUBQUERIES` to a request. A sub-query that returns its full `LIMIT` is paginated with
`next_page`, since one Steam app id can map to several IGDB entries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import from_json

from lambdas.clients import apicalypse as q
from lambdas.errors import UpstreamUnavailableError
from lambdas.models.igdb import ExternalGame, IgdbGame, IgdbGenre, IgdbPlatform, MultiqueryResult

log = structlog.get_logger()

MAX_SUBQUERIES = 10  # per /multiquery request (IGDB)
LIMIT = 500  # rows per query (IGDB maximum)
MAX_KEYS_PER_SUBQUERY = 450  # leaves room for ids that map to several entries

_results = TypeAdapter(list[MultiqueryResult])


@dataclass(frozen=True, slots=True)
class SubQuery:
    """One paginated sub-query; `key` says which lookup it serves."""

    key: tuple[str, int]
    endpoint: str
    select: str
    where: str
    offset: int = 0

    def next_page(self) -> SubQuery:
        return replace(self, offset=self.offset + LIMIT)


def plan_chunks(count: int, *, per_chunk: int = MAX_KEYS_PER_SUBQUERY) -> int:
    """How many sub-queries `count` keys need."""
    return math.ceil(count / per_chunk) if count else 0


def spread(items: Sequence[Any], chunks: int) -> list[Sequence[Any]]:
    """`items` in `chunks` runs of (nearly) equal length, in order."""
    size = math.ceil(len(items) / chunks) if chunks else 0
    return [items[start : start + size] for start in range(0, len(items), size)] if size else []


def steam_subquery(index: int, app_ids: Sequence[int], *, source: int) -> SubQuery:
    """Every IGDB entry `external_game_source = source` maps each Steam app id to."""
    uids = q.string_list(str(int(app_id)) for app_id in app_ids)
    return SubQuery(
        key=("steam", index),
        endpoint="external_games",
        select="uid," + q.fields(q.GAME_FIELDS, prefix="game."),
        where=f"external_game_source = {source} & uid = {uids}",
    )


def title_subquery(index: int, titles: Sequence[str]) -> SubQuery:
    """Games whose name is exactly one of `titles`."""
    return SubQuery(
        key=("title", index),
        endpoint="games",
        select=q.fields(q.GAME_FIELDS),
        where=f"name = {q.string_list(titles)}",
    )


def id_subqueries(ids: Sequence[int]) -> list[SubQuery]:
    """Games by IGDB id, as few sub-queries as the count allows."""
    return [
        SubQuery(
            key=("games", index),
            endpoint="games",
            select=q.fields(q.GAME_FIELDS),
            where=f"id = {q.id_list(chunk)}",
        )
        for index, chunk in enumerate(spread(ids, plan_chunks(len(ids), per_chunk=LIMIT)))
    ]


def request_body(batch: Sequence[SubQuery]) -> str:
    """The `/multiquery` body for up to `MAX_SUBQUERIES` sub-queries, each sorted by id."""
    return "\n".join(
        q.multiquery_block(
            sub.endpoint,
            f"{sub.key[0]}-{sub.key[1]}-{sub.offset}",
            q.query(
                select=sub.select, where=sub.where, sort="id asc", limit=LIMIT, offset=sub.offset
            ),
        )
        for sub in batch
    )


class _ExternalGamesAnswer(BaseModel):
    """One multiquery answer of an `external_games` sub-query, rows already typed."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str
    result: list[ExternalGame] | None = None


class _GamesAnswer(BaseModel):
    """One multiquery answer of a `games` sub-query, rows already typed."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str
    result: list[IgdbGame] | None = None


@cache
def _typed_answers(endpoints: tuple[str, ...]) -> TypeAdapter[tuple[Any, ...]]:
    """A parser for the answers of sub-queries to `endpoints`, in that order."""
    kinds = tuple(
        _ExternalGamesAnswer if name == "external_games" else _GamesAnswer for name in endpoints
    )
    return TypeAdapter(tuple[kinds])  # type: ignore[valid-type]


def _shared(items: Any, model: type[BaseModel], shared: dict[Any, Any]) -> Any:
    """`items` (a reference list of one game) with each object seen before replaced by the one
    model validated for it: a library's thousands of games name a few dozen genres and
    platforms, so each is validated once and the games (and the process cache) share them."""
    if not isinstance(items, list):
        return items
    out: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            try:
                key = (model, *item.items())
                found = shared.get(key)
            except TypeError:  # a value that is not hashable: left to the game's validation
                out.append(item)
                continue
            if found is None:
                try:
                    found = shared[key] = model.model_validate(item)
                except ValidationError:
                    out.append(item)  # the game's validation reports it, as before
                    continue
            out.append(found)
        else:
            out.append(item)
    return out


def _share_references(game: Any, shared: dict[Any, Any]) -> None:
    """Replace a game object's genre and platform objects by shared models, in place."""
    if isinstance(game, dict):
        if "genres" in game:
            game["genres"] = _shared(game["genres"], IgdbGenre, shared)
        if "platforms" in game:
            game["platforms"] = _shared(game["platforms"], IgdbPlatform, shared)


def collect_external(row: Any, into: dict[int, list[IgdbGame]]) -> None:
    """Add the game of an `external_games` row to its Steam app id's list, once."""
    try:
        external = ExternalGame.model_validate(row)
    except ValidationError:
        log.warning("igdb.unreadable_row", row_id=row.get("id") if isinstance(row, dict) else None)
        return
    if external.game is None or external.uid is None or not external.uid.isdigit():
        return
    games = into.get(int(external.uid))
    if games is not None and all(game.id != external.game.id for game in games):
        games.append(external.game)


def read_answers(batch: Sequence[SubQuery], content: bytes) -> list[list[Any]]:
    """The rows of each sub-query's answer, in `batch` order; unreadable answers are transient."""
    try:
        # Fast path: the JSON decoded once (in Rust), each distinct genre and platform validated
        # once and shared, then every answer typed in one call (row models, no dicts kept).
        decoded = from_json(content)
    except ValueError as exc:
        raise UpstreamUnavailableError("IGDB sent an unreadable multiquery answer") from exc
    if isinstance(decoded, list) and len(decoded) == len(batch):
        shared: dict[Any, Any] = {}
        for answer in decoded:
            rows = answer.get("result") if isinstance(answer, dict) else None
            for row in rows if isinstance(rows, list) else ():
                if isinstance(row, dict):
                    _share_references(row.get("game") if "game" in row else row, shared)
        try:
            parsed = _typed_answers(tuple(sub.endpoint for sub in batch)).validate_python(decoded)
        except ValidationError:
            pass  # anything unusual (a malformed row, a missing answer): the row-by-row path
        else:
            return [list(answer.result or ()) for answer in parsed]
    try:
        results = _results.validate_python(decoded)
    except ValidationError as exc:
        raise UpstreamUnavailableError("IGDB sent an unreadable multiquery answer") from exc
    if len(results) != len(batch):
        raise UpstreamUnavailableError(f"IGDB answered {len(results)} of {len(batch)} sub-queries")
    return [result.result or [] for result in results]
