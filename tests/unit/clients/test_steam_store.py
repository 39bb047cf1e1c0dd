"""GetItems client, narrow cases on a transport double: batching, splitting, Steam's retry rules."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from lambdas.clients.http import RetryPolicy
from lambdas.clients.steam_store import GET_ITEMS_PATH, SteamStoreClient
from lambdas.errors import SteamRateLimitedError, UpstreamUnavailableError
from lambdas.models.steam_store import StoreDetails, StoreType

QUICK = RetryPolicy(max_attempts=3, initial_wait=0.001, max_wait=0.002)
PLAIN = StoreDetails()  # an item that is not free and has no tags or categories


def requested(request: httpx.Request) -> list[int]:
    body = json.loads(request.url.params["input_json"])
    return [entry["appid"] for entry in body["ids"]]


def answer(request: httpx.Request) -> httpx.Response:
    items = []
    for appid in requested(request):
        if appid % 7 == 0:
            items.append({"item_type": 0, "id": appid, "success": 2})
        else:
            item = {"item_type": 0, "id": appid, "appid": appid, "success": 1}
            if appid % 2:
                item["type"] = 4
                item["related_items"] = {"parent_appid": appid - 1}
            items.append(item)
    return httpx.Response(200, json={"response": {"store_items": items[::-1]}})


async def types_of(
    app_ids: list[int], handler: Callable[[httpx.Request], httpx.Response], **options: int
) -> tuple[dict[int, StoreType], int]:
    async with SteamStoreClient(
        base_url="https://store.test",
        retry=QUICK,
        transport=httpx.MockTransport(handler),
        **options,
    ) as client:
        found = await client.get_app_types(app_ids)
        return found, client.calls_sent


async def test_batches_match_items_by_id_and_read_the_omitted_type_as_game() -> None:
    seen: list[list[int]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == GET_ITEMS_PATH and "key" not in request.url.params
        seen.append(requested(request))
        return answer(request)

    found, calls = await types_of(list(range(1, 251)), handler, batch_size=100)
    assert calls == 3 and sorted(len(batch) for batch in seen) == [50, 100, 100]
    assert found[2] == StoreType(2, 0, details=PLAIN)  # success, no `type`: a game
    assert found[3] == StoreType(3, 4, parent_appid=2, details=PLAIN)
    assert found[7] == StoreType(7, None)  # success 2: unknown, never a game
    assert len(found) == 250


async def test_the_same_call_reads_tags_categories_and_price() -> None:
    """The store item's own data rides in the type's call: top tags (asked with
    `include_tag_count`, heaviest first), category ids and `is_free` (sent without a flag)."""
    asked: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(json.loads(request.url.params["input_json"])["data_request"])
        item = {
            "item_type": 0,
            "id": 5,
            "success": 1,
            "is_free": True,
            "tags": [{"tagid": 492, "weight": 300}, {"tagid": 87, "weight": 900}],
            "categories": {
                "supported_player_categoryids": [2],
                "feature_categoryids": [10, 22],
                "controller_categoryids": [28],
            },
            "related_items": {"parent_appid": 4},
        }
        return httpx.Response(200, json={"response": {"store_items": [item]}})

    found, calls = await types_of([5], handler)
    assert calls == 1 and asked == [{"include_tag_count": 20}]
    assert found[5] == StoreType(
        5,
        0,
        parent_appid=4,
        details=StoreDetails(is_free=True, tags=(87, 492), players=(2,), features=(10, 22, 28)),
    )


async def test_a_refused_batch_is_split_once() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        ids = requested(request)
        if len(ids) > 3:
            return httpx.Response(400, text="<html>Bad Request</html>")
        if 5 in ids:
            return httpx.Response(413)
        return answer(request)

    found, calls = await types_of([1, 2, 3, 4, 5, 6], handler)
    assert calls == 3  # the batch, then each half once
    assert found[1] == StoreType(1, 4, details=PLAIN)  # parent 0: none
    assert found[2] == StoreType(2, 0, details=PLAIN)
    assert [found[app_id].app_type for app_id in (4, 5, 6)] == [None, None, None]


async def test_throttling_403_and_5xx_are_retried() -> None:
    statuses = iter([403, 503, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        return answer(request) if status == 200 else httpx.Response(status)

    found, calls = await types_of([2], handler)
    assert (found[2], calls) == (StoreType(2, 0, details=PLAIN), 3)


async def test_persistent_429_is_steam_rate_limited() -> None:
    with pytest.raises(SteamRateLimitedError):
        await types_of([2], lambda request: httpx.Response(429))


async def test_an_unreadable_answer_is_upstream_unavailable() -> None:
    with pytest.raises(UpstreamUnavailableError):
        await types_of([2], lambda request: httpx.Response(200, text="<html>oops</html>"))
