"""Async IGDB v4 client: Twitch app tokens, IGDB's rate limits, bulk lookups in few requests.

Transport only: which of the entries found stands for a Steam app is enrichment's choice
(`lambdas.enrichment.ranking`). Bulk lookups are `/multiquery` requests (`igdb_multiquery`) sent
concurrently under the process's rate limiter, full pages followed up round by round.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import structlog
from pydantic import SecretStr, TypeAdapter, ValidationError

from lambdas.clients import apicalypse as q
from lambdas.clients.cache import TtlCache
from lambdas.clients.http import (
    Endpoint,
    HttpLimits,
    PooledClient,
    RetryableResponseError,
    RetryPolicy,
    parse_retry_after,
    raise_if_retryable,
    timeout_from_settings,
    upstream_errors,
)
from lambdas.clients.igdb_multiquery import (
    LIMIT,
    MAX_SUBQUERIES,
    SubQuery,
    collect_external,
    id_subqueries,
    plan_chunks,
    read_answers,
    request_body,
    spread,
    steam_subquery,
    title_subquery,
)
from lambdas.clients.rate_limit import RateLimiter, limiter_for
from lambdas.config import IGDB_API_BASE_URL, TWITCH_TOKEN_URL
from lambdas.errors import (
    IgdbAuthError,
    IgdbQueryError,
    IgdbRateLimitedError,
    UpstreamUnavailableError,
)
from lambdas.models.igdb import IgdbGame, TwitchToken

if TYPE_CHECKING:
    from lambdas.config import Settings

log = structlog.get_logger()

TOKEN_REFRESH_MARGIN = 60.0  # seconds before expiry a token is replaced

_rows = TypeAdapter(list[dict[str, Any]])


@dataclass(slots=True)
class SteamLookup:
    """Every IGDB game found per Steam app id, and per exact title when titles were asked."""

    by_app_id: dict[int, list[IgdbGame]] = field(default_factory=dict)
    by_title: dict[str, list[IgdbGame]] = field(default_factory=dict)


#: Answers a process keeps per kind (apps, titles). The shared app cache in the database holds
#: every answer for every user; this layer only saves that read when an app comes back soon, so
#: it stays small: unbounded, a whale's 20,000 apps (about 1.5 KB each) stayed resident beside
#: the next stage's or the next invocation's work, and a warm container grew user after user.
PROCESS_CACHE_ENTRIES = 2_048


class ProcessCaches:
    """Caches shared by every client of a process (warm Lambda containers, `sync` runs)."""

    def __init__(self, ttl: float, *, max_entries: int = PROCESS_CACHE_ENTRIES) -> None:
        self.tokens: TtlCache[tuple[str, str], str] = TtlCache(ttl=0)
        self.apps: TtlCache[int, tuple[IgdbGame, ...]] = TtlCache(ttl=ttl, max_entries=max_entries)
        self.titles: TtlCache[str, tuple[IgdbGame, ...]] = TtlCache(
            ttl=ttl, max_entries=max_entries
        )


_process_caches: dict[float, ProcessCaches] = {}


def process_caches(ttl: float) -> ProcessCaches:
    if ttl not in _process_caches:
        _process_caches[ttl] = ProcessCaches(ttl)
    return _process_caches[ttl]


def reset_process_caches() -> None:
    """Forget every cached token and lookup of this process (tests and benchmarks)."""
    _process_caches.clear()


class IgdbClient(PooledClient):
    """One pooled IGDB connection per run; use as `async with IgdbClient(...) as igdb`."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: SecretStr,
        base_url: str = IGDB_API_BASE_URL,
        token_url: str = TWITCH_TOKEN_URL,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        caches: ProcessCaches | None = None,
        steam_source_id: int = 1,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: HttpLimits | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            limits=limits,
            endpoints=(
                Endpoint("IGDB_API_BASE_URL", base_url, IGDB_API_BASE_URL),
                Endpoint("TWITCH_TOKEN_URL", token_url, TWITCH_TOKEN_URL),
            ),
        )
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_url = token_url
        self._retry = retry or RetryPolicy(max_attempts=6)
        self._limiter = limiter or RateLimiter()
        self._caches = caches or ProcessCaches(ttl=3600)
        self._steam_source = int(steam_source_id)
        self._token_lock: asyncio.Lock | None = None
        self.requests_sent = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> IgdbClient:
        client_id, secret = settings.require_igdb_credentials()
        return cls(
            client_id=client_id,
            client_secret=secret,
            base_url=settings.igdb_api_base_url,
            token_url=settings.twitch_token_url,
            timeout=timeout_from_settings(settings),
            retry=RetryPolicy.from_settings(settings, max_attempts=settings.igdb_max_attempts),
            limiter=limiter_for(
                client_id,
                per_second=settings.igdb_requests_per_second,
                max_in_flight=settings.igdb_max_in_flight,
            ),
            caches=process_caches(settings.igdb_cache_ttl_seconds),
            steam_source_id=settings.igdb_steam_source_id,
            transport=transport,
            limits=HttpLimits.from_settings(settings),
        )

    async def _opened(self) -> None:
        self._token_lock = asyncio.Lock()

    async def warm_up(self) -> None:
        """Get the app token now (one request unless cached), so a look-up soon after does not
        wait for it: for callers that know they will ask IGDB."""
        await self._token()

    # -- public lookups ------------------------------------------------------------------------

    async def lookup_steam_apps(
        self, app_ids: Iterable[int], *, titles: Iterable[str] = (), titles_if_free: bool = False
    ) -> SteamLookup:
        """IGDB games per Steam app id (all entries) and per exact title, from cache or IGDB.

        With `titles_if_free`, titles are looked up only when they fit into the requests the app
        ids need anyway (the free sub-query slots), so asking never costs an extra request.
        """
        result = SteamLookup()
        pending_ids: list[int] = []
        for app_id in dict.fromkeys(app_ids):
            found, games = self._caches.apps.get(app_id)
            if found:
                result.by_app_id[app_id] = list(games or ())
            else:
                pending_ids.append(app_id)
        pending_titles: list[str] = []
        for title in dict.fromkeys(titles):
            found, games = self._caches.titles.get(title)
            if found:
                result.by_title[title] = list(games or ())
            else:
                pending_titles.append(title)
        id_chunks = plan_chunks(len(pending_ids))
        title_chunks = plan_chunks(len(pending_titles))
        if titles_if_free:
            free = -id_chunks % MAX_SUBQUERIES if id_chunks else 0
            if title_chunks > free:
                pending_titles, title_chunks = [], 0
        subqueries = [
            steam_subquery(index, chunk, source=self._steam_source)
            for index, chunk in enumerate(spread(pending_ids, id_chunks))
        ] + [
            title_subquery(index, chunk)
            for index, chunk in enumerate(spread(pending_titles, title_chunks))
        ]
        rows = await self._run(subqueries)
        games_by_app: dict[int, list[IgdbGame]] = {app_id: [] for app_id in pending_ids}
        games_by_title: dict[str, list[IgdbGame]] = {title: [] for title in pending_titles}
        for (kind, _), found_rows in rows.items():
            for row in found_rows:
                if kind == "steam":
                    collect_external(row, games_by_app)
                else:
                    game = IgdbGame.model_validate(row)
                    if game.name in games_by_title:
                        games_by_title[game.name].append(game)
        for app_id, app_games in games_by_app.items():
            app_games.sort(key=lambda game: game.id)
            result.by_app_id[app_id] = app_games
        for title, title_games in games_by_title.items():
            title_games.sort(key=lambda game: game.id)
            result.by_title[title] = title_games
        self._caches.apps.put_many([(app, tuple(found)) for app, found in games_by_app.items()])
        self._caches.titles.put_many(
            [(title, tuple(found)) for title, found in games_by_title.items()]
        )
        return result

    async def get_games_by_ids(self, ids: Iterable[int]) -> dict[int, IgdbGame]:
        """Games by IGDB id, in as few requests as the count allows."""
        unique = list(dict.fromkeys(int(game_id) for game_id in ids))
        rows = await self._run(id_subqueries(unique))
        games = (IgdbGame.model_validate(row) for found in rows.values() for row in found)
        return {game.id: game for game in games}

    async def search_games(self, title: str, *, limit: int = 10) -> list[IgdbGame]:
        """IGDB's full-text search (best effort), main entries first: for manual linking."""
        cleaned = " ".join(title.split())[:200]
        if not cleaned:
            return []
        body = q.query(
            select=q.fields(q.GAME_FIELDS),
            search=cleaned,
            where="version_parent = null",
            limit=max(1, min(limit, 50)),
        )
        rows = _rows.validate_python(await self._post("/games", body))
        return [IgdbGame.model_validate(row) for row in rows]

    # -- pagination ----------------------------------------------------------------------------

    async def _run(self, subqueries: list[SubQuery]) -> dict[tuple[str, int], list[Any]]:
        """Run sub-queries packed into multiqueries; follow full pages until every one is done."""
        collected: dict[tuple[str, int], list[Any]] = {sub.key: [] for sub in subqueries}
        pending = subqueries
        while pending:
            batches = [
                pending[start : start + MAX_SUBQUERIES]
                for start in range(0, len(pending), MAX_SUBQUERIES)
            ]
            answers = await asyncio.gather(*(self._multiquery(batch) for batch in batches))
            pending = []
            for batch, answer in zip(batches, answers, strict=True):
                for sub, rows in zip(batch, answer, strict=True):
                    collected[sub.key].extend(rows)
                    if len(rows) >= LIMIT:
                        pending.append(sub.next_page())
        return collected

    async def _multiquery(self, batch: list[SubQuery]) -> list[list[Any]]:
        response = await self._post_response("/multiquery", request_body(batch))
        return read_answers(batch, response.content)

    # -- HTTP, tokens and errors -----------------------------------------------------------------

    async def _token(self, *, stale: str | None = None) -> str:
        """A cached app token, replaced 60 s before expiry or when `stale` was refused."""
        if self._token_lock is None:
            raise RuntimeError("use IgdbClient as an async context manager (async with)")
        cache_key = (self._token_url, self._client_id)
        async with self._token_lock:
            found, token = self._caches.tokens.get(cache_key)
            if found and token is not None and token != stale:
                return token
            fresh = await self._fetch_token()
            lifetime = max(fresh.expires_in - TOKEN_REFRESH_MARGIN, 0.0)
            self._caches.tokens.put(cache_key, fresh.access_token, ttl=lifetime)
            log.info("igdb.token_issued", expires_in=fresh.expires_in)
            return fresh.access_token

    async def _fetch_token(self) -> TwitchToken:
        form = {
            "client_id": self._client_id,
            "client_secret": self._client_secret.get_secret_value(),
            "grant_type": "client_credentials",
        }
        response = await self._send("POST", self._token_url, data=form, upstream="Twitch")
        if response.status_code in (400, 401, 403):
            raise IgdbAuthError(
                f"Twitch refused the IGDB credentials (HTTP {response.status_code}: "
                f"{_message(response)}); check IGDB_CLIENT_ID and IGDB_CLIENT_SECRET"
            )
        if response.status_code != 200:
            raise UpstreamUnavailableError(f"Twitch answered HTTP {response.status_code}")
        try:
            return TwitchToken.model_validate_json(response.content)
        except ValidationError as exc:
            raise UpstreamUnavailableError("Twitch sent an unreadable token answer") from exc

    async def _post(self, path: str, body: str) -> Any:
        response = await self._post_response(path, body)
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamUnavailableError(f"IGDB sent unreadable JSON for {path}") from exc

    async def _post_response(self, path: str, body: str) -> httpx.Response:
        """The 200 answer to a POST; refused tokens refreshed once, other statuses translated."""
        token = await self._token()
        response = await self._send("POST", path, content=body, token=token)
        if response.status_code == 401:
            log.info("igdb.token_refused", action="refresh once")
            token = await self._token(stale=token)
            response = await self._send("POST", path, content=body, token=token)
            if response.status_code == 401:
                raise IgdbAuthError("IGDB refused a freshly issued token; check IGDB_CLIENT_ID")
        if response.status_code == 400:
            raise IgdbQueryError(f"IGDB rejected the query to {path}: {_message(response)}")
        if response.status_code in (403, 404):
            raise IgdbQueryError(
                f"IGDB answered HTTP {response.status_code} to {path}; check IGDB_API_BASE_URL"
            )
        if response.status_code != 200:
            raise UpstreamUnavailableError(f"IGDB answered HTTP {response.status_code} to {path}")
        return response

    async def _send(
        self,
        method: str,
        url: str,
        *,
        upstream: str = "IGDB",
        token: str | None = None,
        content: str | None = None,
        data: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One logical request with the shared retry policy; errors translated on the way out."""
        headers = {"Client-ID": self._client_id}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if content is not None:
            headers["Content-Type"] = "text/plain"
        with upstream_errors(upstream, rate_limited=IgdbRateLimitedError):
            async for attempt in self._retry.retrying(upstream=upstream):
                with attempt:
                    return await self._attempt(
                        method, url, headers, content, data, attempt.retry_state.attempt_number
                    )
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _attempt(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: str | None,
        data: dict[str, str] | None,
        attempt_number: int,
    ) -> httpx.Response:
        async with self._limiter.slot():
            started = time.perf_counter()
            self.requests_sent += 1
            response = await self._exchange(
                method, url, headers=headers, content=content, data=data
            )
        log.debug(
            "igdb.request",
            path=httpx.URL(url).path,
            status=response.status_code,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        if response.status_code == 429:
            # Everyone backs off together: the limit is per client id, not per coroutine.
            retry_after = parse_retry_after(response)
            if retry_after is not None and not retry_after <= self._retry.max_wait:
                # Longer than any wait we allow (or not a number): a Lambda must not sleep
                # through its timeout; Step Functions waits and retries the stage instead.
                raise IgdbRateLimitedError(
                    f"IGDB asked to wait {_seconds(retry_after)} (Retry-After), longer than "
                    f"RETRY_MAX_WAIT_SECONDS ({self._retry.max_wait:g} s); try again later"
                )
            self._limiter.pause(
                retry_after
                if retry_after is not None
                else self._retry.wait_seconds(attempt_number, None)
            )
            raise RetryableResponseError(429, retry_after=0.0)
        raise_if_retryable(response)
        return response


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if math.isfinite(value) else "an unbounded time"


def _message(response: httpx.Response) -> str:
    """A short, secret-free description of an error body."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no details"
    if isinstance(body, list) and body and isinstance(body[0], dict):
        body = body[0]
    if isinstance(body, dict):
        text = body.get("cause") or body.get("message") or body.get("title") or ""
        return str(text)[:300] or "no details"
    return "no details"
