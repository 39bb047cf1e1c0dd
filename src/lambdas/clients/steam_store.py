"""Async client for Steam's store types (`IStoreBrowseService/GetItems/v1`), in batches.

Each item's type comes with its parent app, `is_free`, category ids and top user tags from the
same call (`StoreDetails`): the evidence stage 2 weighs when the store says game and IGDB is
silent.

GetItems needs no key, so none is sent. Ids travel in batches (`STEAM_STORE_BATCH_SIZE`, 100 by
default; the per-call limit is not documented), a few batches in flight at once. Steam's rules
apply: 429 and 5xx are retried with jittered exponential backoff (Retry-After when sent) and
reported as transient errors once the attempts are spent. A 403 on this keyless call can only
be the store's throttle, so it is treated like a 429. Any other 4xx for a batch of several ids
splits the batch once; ids whose half is refused again stay without a type (names and IGDB
decide them), with a warning.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import httpx
import structlog
from pydantic import ValidationError

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
from lambdas.config import STEAM_API_BASE_URL
from lambdas.errors import ConfigurationError, SteamRateLimitedError, UpstreamUnavailableError
from lambdas.models.steam_store import StoreDetails, StoreItemsResponse, StoreType

if TYPE_CHECKING:
    from lambdas.config import Settings

log = structlog.get_logger()

GET_ITEMS_PATH = "/IStoreBrowseService/GetItems/v1/"
#: Top user tags asked per item (the store page shows 20); read only for undecided apps.
TAG_COUNT = 20
_EResultOK = 1


class _BatchRefused(Exception):
    """A 4xx other than 403/429 for one batch."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


class SteamStoreClient(PooledClient):
    """One pooled connection to the store API per run; `async with SteamStoreClient(...)`."""

    def __init__(
        self,
        *,
        base_url: str = STEAM_API_BASE_URL,
        batch_size: int = 100,
        max_in_flight: int = 8,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        language: str = "english",
        country_code: str = "US",
        transport: httpx.AsyncBaseTransport | None = None,
        limits: HttpLimits | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            limits=limits,
            endpoints=(Endpoint("STEAM_API_BASE_URL", base_url, STEAM_API_BASE_URL),),
        )
        if batch_size < 1 or max_in_flight < 1:
            raise ValueError("batch_size and max_in_flight must be positive")
        self._batch_size = batch_size
        self._max_in_flight = max_in_flight
        self._retry = retry or RetryPolicy()
        self._context = {"language": language, "country_code": country_code}
        self._slots: asyncio.Semaphore | None = None
        self.calls_sent = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> SteamStoreClient:
        return cls(
            base_url=settings.steam_api_base_url,
            batch_size=settings.steam_store_batch_size,
            max_in_flight=settings.steam_store_max_in_flight,
            timeout=timeout_from_settings(settings),
            retry=RetryPolicy.from_settings(settings, max_attempts=settings.steam_max_attempts),
            transport=transport,
            limits=HttpLimits.from_settings(settings),
        )

    async def _opened(self) -> None:
        self._slots = asyncio.Semaphore(self._max_in_flight)

    async def get_app_types(
        self,
        app_ids: Iterable[int],
        *,
        on_batch: Callable[[dict[int, StoreType]], None] | None = None,
    ) -> dict[int, StoreType]:
        """Steam's type of every app id; an id the store does not know has `app_type` None.

        `on_batch` sees each batch's types as soon as they arrive, so a caller can start work
        that depends on them while later batches are still in flight.
        """
        unique = list(dict.fromkeys(int(app_id) for app_id in app_ids))
        batches = [
            unique[start : start + self._batch_size]
            for start in range(0, len(unique), self._batch_size)
        ]

        async def answered(batch: Sequence[int]) -> dict[int, StoreType]:
            types = await self._batch(batch, split=True)
            if on_batch is not None:
                on_batch(types)
            return types

        answers = await asyncio.gather(*(answered(batch) for batch in batches))
        found: dict[int, StoreType] = {}
        for answer in answers:
            found.update(answer)
        return found

    async def _batch(self, app_ids: Sequence[int], *, split: bool) -> dict[int, StoreType]:
        try:
            items = await self._get_items(app_ids)
        except _BatchRefused as exc:
            if split and len(app_ids) > 1:
                middle = len(app_ids) // 2
                log.info("steam_store.batch_split", ids=len(app_ids), status=exc.status_code)
                halves = await asyncio.gather(
                    self._batch(app_ids[:middle], split=False),
                    self._batch(app_ids[middle:], split=False),
                )
                return {**halves[0], **halves[1]}
            log.warning("steam_store.batch_refused", ids=len(app_ids), status=exc.status_code)
            return {app_id: StoreType(app_id, None) for app_id in app_ids}
        types = {app_id: StoreType(app_id, None) for app_id in app_ids}
        for item in items.response.store_items:
            app_id = item.app_id
            if app_id not in types or item.success != _EResultOK:
                continue
            parent = item.related_items.parent_appid if item.related_items else None
            types[app_id] = StoreType(
                app_id, item.type, parent or None, StoreDetails.of(item), item.name
            )
        return types

    async def _get_items(self, app_ids: Sequence[int]) -> StoreItemsResponse:
        request = {
            "ids": [{"appid": app_id} for app_id in app_ids],
            "context": self._context,
            # The type, parent app, `is_free` and categories come without a flag; the top user
            # tags need `include_tag_count`. Nothing else is asked (no descriptions, no assets).
            "data_request": {"include_tag_count": TAG_COUNT},
        }
        params = {"input_json": json.dumps(request, separators=(",", ":"))}
        assert self._slots is not None, "use SteamStoreClient as an async context manager"
        with upstream_errors("Steam", rate_limited=SteamRateLimitedError, about=" to GetItems"):
            async for attempt in self._retry.retrying(upstream="Steam"):
                with attempt:
                    async with self._slots:
                        self.calls_sent += 1
                        response = await self._exchange("GET", GET_ITEMS_PATH, params=params)
                    if response.status_code == 403:
                        raise RetryableResponseError(429, parse_retry_after(response))
                    raise_if_retryable(response)
        # Let the call waiting for this slot send its request before this answer is read (and
        # `on_batch` runs): the next wave then travels while this one is worked on, instead of
        # after every answer of a wave has been read.
        await asyncio.sleep(0)
        if response.status_code == 404:
            raise ConfigurationError(
                "Steam has no GetItems method (HTTP 404); check STEAM_API_BASE_URL"
            )
        if 400 <= response.status_code < 500:
            raise _BatchRefused(response.status_code)
        if response.status_code != 200:
            raise UpstreamUnavailableError(
                f"Steam answered HTTP {response.status_code} to GetItems"
            )
        try:
            return StoreItemsResponse.model_validate_json(response.content)
        except ValidationError as exc:
            raise UpstreamUnavailableError(
                f"Steam sent an unreadable answer to GetItems ({exc.error_count()} problems)"
            ) from None
