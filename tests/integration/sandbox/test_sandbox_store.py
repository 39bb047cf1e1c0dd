"""The emulator's GetItems: keyless, consistent with the catalogue, Steam's quirks and faults."""

from __future__ import annotations

import json
from typing import Any

import httpx

from steam_sandbox import AppKind, Sandbox

PATH = "/IStoreBrowseService/GetItems/v1/"


def get_items(
    http: httpx.Client, appids: list[Any], data_request: dict[str, Any] | None = None, **params: str
) -> httpx.Response:
    body: dict[str, Any] = {
        "ids": [{"appid": appid} for appid in appids],
        "context": {"language": "english"},
    }
    if data_request is not None:
        body["data_request"] = data_request
    return http.get(PATH, params={"input_json": json.dumps(body), **params})


def items_by_id(response: httpx.Response) -> dict[int, dict[str, Any]]:
    assert response.status_code == 200
    return {item["id"]: item for item in response.json()["response"]["store_items"]}


def test_types_and_parents_follow_the_catalogue(http: httpx.Client, sb: Sandbox) -> None:
    truth = sb.ground_truth("medium")
    appids = [app.appid for app in truth][:200]
    response = get_items(http, appids)  # no key: the store's data needs none
    items = items_by_id(response)
    listed = [item["id"] for item in response.json()["response"]["store_items"]]
    assert listed == appids[::-1]  # the order is not the request's: match by id
    for appid in appids:
        app, item = sb.catalogue.apps[appid], items[appid]
        if app.store_type is None:
            assert item == {"item_type": 0, "id": appid, "success": 2}
            continue
        assert item["success"] == 1 and item["appid"] == appid and item["name"] == app.name
        assert item.get("type", 0) == app.store_type  # 0 (game) is omitted
        assert ("type" in item) == (app.store_type != 0)
        parent = item.get("related_items", {}).get("parent_appid")
        assert parent == app.parent_appid
        if parent is not None:
            assert sb.catalogue.apps[parent].truth.kind is AppKind.GAME


def test_every_kind_has_its_store_type_and_the_quirks_exist(sb: Sandbox) -> None:
    apps = sb.catalogue.apps.values()
    games = [
        app for app in apps if app.truth.kind is AppKind.GAME and "delisted" not in app.truth.tags
    ]
    assert {app.store_type for app in games} <= {0, 2, 4}  # IGDB-filed "games" are DLC or mods
    demos = [app for app in apps if app.truth.kind is AppKind.DEMO and app.store_type is not None]
    assert {app.store_type for app in demos} == {0, 1}  # 0: the silent quadrant's
    assert {app.appid for app in demos if app.store_type == 0} <= set(
        sb.catalogue.pools["silent_nongame"]
    )
    assert all(app.parent_appid is not None for app in demos)
    pools = sb.catalogue.pools
    assert all(sb.catalogue.apps[a].store_type is None for a in pools["delisted"])
    assert {sb.catalogue.apps[a].truth.kind for a in pools["store_typed_game"]} == {
        AppKind.BETA,
        AppKind.SERVER,
    }
    assert all(sb.catalogue.apps[a].store_type == 0 for a in pools["store_typed_game"])
    assert all(sb.catalogue.apps[a].store_type == 0 for a in pools["store_trap"])
    assert len(pools["igdb_pitfall"]) >= 10


def test_unknown_ids_are_not_successful_and_bad_input_is_400(
    http: httpx.Client, sb: Sandbox
) -> None:
    assert items_by_id(get_items(http, [1, 3]))[1] == {"item_type": 0, "id": 1, "success": 2}
    assert get_items(http, []).status_code == 400
    assert http.get(PATH, params={"input_json": "{not json"}).status_code == 400
    sb.set_knobs(steam={"store_max_ids": 5})
    assert get_items(http, list(range(10, 16))).status_code == 400


def test_a_key_is_harmless_and_faults_apply(http: httpx.Client, sb: Sandbox) -> None:
    appid = sb.ground_truth("small")[0].appid
    assert items_by_id(get_items(http, [appid], key="not-a-key"))[appid]["success"] in (1, 2)
    sb.set_knobs(steam={"error_rate": 1.0, "error_statuses": [503]})
    assert get_items(http, [appid]).status_code == 503
    sb.set_knobs(steam={"error_rate": 0.0, "burst_429_rate": 1.0})
    assert get_items(http, [appid]).status_code == 429
    assert sb.stats().requests["steam"]["GetItems"] == {"200": 1, "503": 1, "429": 1}


def test_items_carry_price_categories_and_asked_tags(http: httpx.Client, sb: Sandbox) -> None:
    """`is_free` and categories come without a flag; the top user tags only with
    `include_tag_count`, heaviest first; the silent quadrant's apps carry them too."""
    pools = sb.catalogue.pools
    appids = sorted({*pools["silent_nongame"][:40], *pools["silent_game"][:10]})
    plain = items_by_id(get_items(http, appids))
    tagged = items_by_id(get_items(http, appids, {"include_tag_count": 3}))
    for appid in appids:
        app = sb.catalogue.apps[appid]
        item = tagged[appid]
        assert item.get("type", 0) == 0 and "tags" not in plain[appid]
        assert item.get("is_free", False) is app.store_free
        categories = item.get("categories", {})
        assert categories.get("supported_player_categoryids", []) == list(app.store_players)
        assert categories.get("feature_categoryids", []) == list(app.store_features)
        tags = item.get("tags", [])
        assert [tag["tagid"] for tag in tags] == list(app.store_tags[:3])
        weights = [tag["weight"] for tag in tags]
        assert weights == sorted(weights, reverse=True)
    assert any(item.get("tags") for item in tagged.values())
    assert any(item.get("is_free") for item in tagged.values())
    assert get_items(http, appids[:1], {"include_tag_count": "many"}).status_code == 400
