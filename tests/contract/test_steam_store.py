"""What the pipeline relies on from Steam's store: `IStoreBrowseService/GetItems/v1` types a
game, a DLC, a soundtrack and a dedicated server, keyless, on both targets."""

from __future__ import annotations

import json
from typing import Any

from tests.contract.targets import Target

GET_ITEMS = "/IStoreBrowseService/GetItems/v1/"
GAME, DLC, MUSIC, TOOL = 0, 4, 11, 13


async def _items(target: Target, app_ids: list[int]) -> dict[int, dict[str, Any]]:
    request = {
        "ids": [{"appid": app_id} for app_id in app_ids],
        "context": {"language": "english", "country_code": "US"},
        "data_request": {"include_basic_info": True},
    }
    async with target.http(base_url=target.steam_base_url) as http:
        response = await http.get(GET_ITEMS, params={"input_json": json.dumps(request)})
    assert response.status_code == 200
    items = response.json()["response"]["store_items"]
    assert isinstance(items, list)
    by_id: dict[int, dict[str, Any]] = {}
    for item in items:  # the order is not promised: match by id
        assert isinstance(item["id"], int) and item["id"] not in by_id
        by_id[item["id"]] = item
    return by_id


async def test_get_items_types_each_kind_of_app(target: Target) -> None:
    apps = target.store_apps
    items = await _items(target, [apps.game, apps.dlc, apps.soundtrack, apps.server, apps.unknown])

    for app_id in (apps.game, apps.dlc, apps.soundtrack, apps.server):
        item = items[app_id]
        assert item["success"] == 1, app_id
        assert item["item_type"] == 0  # an app, not a package or bundle
        assert item["appid"] == app_id
        assert isinstance(item["name"], str) and item["name"]
    # A game's type is the proto default, 0, which JSON leaves out.
    assert items[apps.game].get("type", GAME) == GAME
    assert items[apps.dlc]["type"] == DLC
    assert isinstance(items[apps.dlc]["related_items"]["parent_appid"], int)
    assert items[apps.soundtrack]["type"] in (MUSIC, DLC)  # older soundtracks are sold as DLC
    assert items[apps.server]["type"] == TOOL

    # No such app: no type at all, so the pipeline can never read it as a game.
    unknown = items.get(apps.unknown)
    if unknown is not None:
        assert unknown["success"] != 1
        assert "type" not in unknown
