"""The sandbox's IGDB v4 API over real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from steam_sandbox import MatchStatus, Sandbox
from steam_sandbox.reference_data import FILTERED_GAME_TYPES

ENRICH_FIELDS = (
    "uid,game.name,game.slug,game.summary,game.first_release_date,game.cover.image_id,"
    "game.game_type,game.version_parent,game.parent_game,game.genres.name,game.genres.slug,"
    "game.genres.checksum,game.platforms.name,game.platforms.slug,game.platforms.abbreviation,"
    "game.platforms.alternative_name,game.platforms.generation,game.platforms.platform_family,"
    "game.platforms.platform_type,game.platforms.checksum,game.franchise,game.franchises"
)


def uids(appids: list[int]) -> str:
    return ",".join(f'"{a}"' for a in appids)


def first(sb: Sandbox, tag: str) -> int:
    return sorted(sb.catalogue.pools[tag])[0]


# -- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer {token}"},
        {"Client-ID": "{client}"},
        {"Client-ID": "wrong", "Authorization": "Bearer {token}"},
        {"Client-ID": "{client}", "Authorization": "{token}"},
        {"Client-ID": "{client}", "Authorization": "Bearer unknown"},
        {"Client-ID": "{client}", "Authorization": "Bearer {secret}"},
    ],
    ids=["none", "no-client", "no-token", "wrong-client", "no-bearer", "unknown", "secret"],
)
def test_bad_credentials_are_401(
    http: httpx.Client, sb: Sandbox, igdb: Any, headers: dict[str, str]
) -> None:
    values = {"token": igdb.token, "client": sb.igdb_client_id, "secret": sb.igdb_client_secret}
    sent = {k: v.format(**values) for k, v in headers.items()}

    response = http.post("/v4/games", content="fields name;", headers=sent)

    assert response.status_code == 401
    assert response.json()["message"] == "Authorization Failure. Have you tried:"
    assert "Tip 1" in response.json()


# -- external_games: the enrichment lookup -------------------------------------------------


def test_external_games_lookup_with_expanded_names(sb: Sandbox, igdb: Any) -> None:
    truth = [t for t in sb.ground_truth("small") if t.mapped_igdb_ids][:2]
    wanted = uids([t.appid for t in truth])
    query = f"fields game.name, uid; where external_game_source = 1 & uid = ({wanted}); limit 500;"

    rows = igdb.query("external_games", query)

    games = sb.state.store.rows["games"]
    expected = {(str(t.appid), g) for t in truth for g in t.mapped_igdb_ids}
    assert {(r["uid"], r["game"]["id"]) for r in rows} == expected
    for row in rows:
        assert set(row) == {"id", "uid", "game"}
        assert row["game"] == {"id": row["game"]["id"], "name": games[row["game"]["id"]]["name"]}


def test_several_rows_for_one_uid(sb: Sandbox, igdb: Any) -> None:
    appid = first(sb, "multi_entry")
    truth = sb.catalogue.truth(appid)

    rows = igdb.query(
        "external_games",
        "fields uid,game.game_type,game.version_parent;"
        f' where external_game_source = 1 & uid = "{appid}";',
    )

    assert 2 <= len(rows) <= 3
    assert sorted(r["game"]["id"] for r in rows) == sorted(truth.mapped_igdb_ids)
    main = [r for r in rows if r["game"]["game_type"] == 0 and "version_parent" not in r["game"]]
    assert [r["game"]["id"] for r in main] == [truth.igdb_id]


def test_uids_of_other_sources_need_the_source_filter(sb: Sandbox, igdb: Any) -> None:
    gog = [r for r in sb.catalogue.tables["external_games"] if r["external_game_source"] == 5]
    trap = next(r["uid"] for r in gog if int(r["uid"]) in sb.catalogue.apps)

    everything = igdb.query(
        "external_games", f'fields uid,external_game_source; where uid = "{trap}";'
    )
    steam_only = igdb.query(
        "external_games", f'fields uid; where uid = "{trap}" & external_game_source = 1;'
    )

    assert {r["external_game_source"] for r in everything} == {1, 5}
    assert len(steam_only) == len(everything) - 1


def test_filtered_entries_carry_their_game_type(sb: Sandbox, igdb: Any) -> None:
    appid = first(sb, "igdb_filtered")

    rows = igdb.query("external_games", f'fields game.game_type; where uid = "{appid}";')

    assert rows[0]["game"]["game_type"] in FILTERED_GAME_TYPES
    assert sb.catalogue.truth(appid).status is MatchStatus.FILTERED


def test_enrichment_multiquery_for_two_thousand_apps(sb: Sandbox, igdb: Any) -> None:
    appids = [t.appid for t in sb.ground_truth("large")]
    blocks = [
        f'query external_games "c{i}" {{ fields {ENRICH_FIELDS}; '
        f"where external_game_source = 1 & uid = ({uids(appids[i * 400 : (i + 1) * 400])}); "
        "limit 500; };"
        for i in range(6)  # 2,020 apps: the large library owns 20 unvetted apps too
    ]

    result = igdb.query("multiquery", "\n".join(blocks))

    assert [block["name"] for block in result] == [f"c{i}" for i in range(6)]
    rows = [row for block in result for row in block["result"]]
    assert all(len(block["result"]) < 500 for block in result)
    mapped = {t.appid: set(t.mapped_igdb_ids) for t in sb.ground_truth("large")}
    seen: dict[int, set[int]] = {}
    for row in rows:
        seen.setdefault(int(row["uid"]), set()).add(row["game"]["id"])
    assert seen == {a: ids for a, ids in mapped.items() if ids}
    sample = next(r["game"] for r in rows if "cover" in r["game"] and r["game"].get("genres"))
    assert set(sample["cover"]) == {"id", "image_id"}
    assert {"id", "name", "slug", "checksum"} == set(sample["genres"][0])
    assert sb.stats().total("igdb", "multiquery", 200) == 1


# -- query language over HTTP --------------------------------------------------------------


def test_unterminated_string_is_a_syntax_error(igdb: Any) -> None:
    response = igdb.post("games", 'fields name; where name = "Portal;')

    assert response.status_code == 400
    [error] = response.json()
    assert error["title"] == "Syntax Error"
    assert error["status"] == 400
    assert error["cause"]


def test_unquoted_uid_is_rejected(igdb: Any) -> None:
    response = igdb.post("external_games", "fields uid; where uid = (620, 730);")

    assert response.status_code == 400
    assert "Expecting a STRING as input" in response.json()[0]["cause"]


def test_unknown_field_is_invalid_field(igdb: Any) -> None:
    response = igdb.post("games", "fields checksums;")

    assert response.status_code == 400
    assert response.json()[0]["title"] == "Invalid Field"
    assert "checksums" in response.json()[0]["cause"]


def test_limit_default_maximum_and_offset(igdb: Any) -> None:
    default = igdb.query("games", "fields id;")
    page1 = igdb.query("games", "fields id; limit 500;")
    page2 = igdb.query("games", "fields id; limit 500; offset 250;")
    too_big = igdb.post("games", "fields id; limit 501;")

    assert len(default) == 10
    assert len(page1) == 500
    assert page2[0] == page1[250]
    assert too_big.status_code == 400


def test_responses_omit_absent_fields_and_use_ids(sb: Sandbox, igdb: Any) -> None:
    games = sb.state.store.rows["games"]
    undated = next(g["id"] for g in games.values() if "first_release_date" not in g)

    [row] = igdb.query(
        "games", f"fields name,first_release_date,cover,genres; where id = {undated};"
    )

    assert "first_release_date" not in row
    assert all(isinstance(g, int) for g in row["genres"])
    assert row["id"] == undated


def test_cover_url_is_protocol_relative_thumb(igdb: Any) -> None:
    [cover] = igdb.query("covers", "fields url,image_id; limit 1;")

    assert cover["url"] == f"//images.igdb.com/igdb/image/upload/t_thumb/{cover['image_id']}.jpg"


def test_star_and_nested_star(igdb: Any) -> None:
    [game] = igdb.query(
        "games", "fields *, genres.*; where genres != null & cover != null; limit 1;"
    )

    assert {"name", "slug", "game_type", "cover", "created_at", "checksum"} <= set(game)
    assert "category" not in game
    assert {"id", "name", "slug", "url", "checksum"} <= set(game["genres"][0])


@pytest.mark.parametrize(
    ("mode", "status", "present"),
    [("omitted", 200, False), ("populated", 200, True), ("error", 400, None)],
)
def test_deprecated_category(
    sb: Sandbox, igdb: Any, mode: str, status: int, present: bool | None
) -> None:
    sb.set_knobs(igdb={"category_mode": mode})

    response = igdb.post("external_games", "fields uid,category; limit 3;")

    assert response.status_code == status
    if present is not None:
        assert all(("category" in row) is present for row in response.json())


def test_search(igdb: Any, sb: Sandbox) -> None:
    name = sb.catalogue.truth(first(sb, "title_fallback")).name

    rows = igdb.query("games", f'search "{name}"; fields name; limit 5;')

    assert rows[0]["name"] == name


def test_exact_title_lookup_for_the_fallback(igdb: Any, sb: Sandbox) -> None:
    truth = sb.catalogue.truth(first(sb, "ambiguous"))
    escaped = truth.name.replace("\\", "\\\\").replace('"', '\\"')

    rows = igdb.query("games", f'fields name; where name = "{escaped}";')

    assert sorted(r["id"] for r in rows) == sorted(truth.candidates)


def test_names_with_quotes_and_backslashes_round_trip(igdb: Any, sb: Sandbox) -> None:
    games = sb.state.store.rows["games"].values()
    tricky = next(g["name"] for g in games if '"' in g["name"])
    slashed = next(g["name"] for g in games if "\\" in g["name"])

    for name in (tricky, slashed):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        rows = igdb.query("games", f'fields name; where name = "{escaped}";')
        assert [r["name"] for r in rows] == [name]


def test_count_endpoint(igdb: Any) -> None:
    body = "where game_type = (1,3,13);"

    count = igdb.query("games/count", body)["count"]
    via_multi = igdb.query("multiquery", f'query games/count "n" {{ {body} }};')

    assert count > 0
    assert via_multi == [{"name": "n", "count": count}]


def test_reference_endpoints(igdb: Any) -> None:
    assert igdb.query("external_game_sources", 'fields name; where name = "Steam";') == [
        {"id": 1, "name": "Steam"}
    ]
    assert igdb.query("game_types", "fields type; where id = 13;") == [
        {"id": 13, "type": "Pack / Addon"}
    ]
    assert (
        igdb.query("platforms", "fields name; where id = 6;")[0]["name"] == "PC (Microsoft Windows)"
    )
    assert igdb.query("platform_types", "fields name; where id = 1;")[0]["name"] == "console"
    assert len(igdb.query("genres", "fields slug; limit 50;")) == 23


def test_multiquery_order_and_block_limit(igdb: Any) -> None:
    blocks = [f'query games "q{i}" {{ fields name; limit 1; }};' for i in range(10)]

    ten = igdb.query("multiquery", "".join(blocks))
    eleven = igdb.post("multiquery", "".join([*blocks, 'query games "q10" { fields name; };']))

    assert [b["name"] for b in ten] == [f"q{i}" for i in range(10)]
    assert eleven.status_code == 400


def test_multiquery_errors_fail_the_whole_request(igdb: Any) -> None:
    bad_endpoint = igdb.post("multiquery", 'query nope "a" { fields name; };')
    bad_field = igdb.post(
        "multiquery", 'query games "a" { fields name; }; query games "b" { fields nope; };'
    )

    assert bad_endpoint.status_code == 400
    assert bad_field.status_code == 400


def test_unknown_endpoint_is_javalin_404(igdb: Any) -> None:
    response = igdb.post("gamez", "fields name;")

    assert response.status_code == 404
    assert response.json()["type"] == "https://javalin.io/documentation#notfoundresponse"


def test_injected_500_is_javalin_style(igdb: Any, sb: Sandbox) -> None:
    sb.set_knobs(igdb={"error_rate": 1.0, "error_statuses": [500]})

    response = igdb.post("games", "fields name;")

    assert response.status_code == 500
    assert response.json()["title"] == "Internal server error"


# -- rate limits ---------------------------------------------------------------------------


def test_a_burst_of_six_in_one_second_meets_a_429(igdb: Any, sb: Sandbox) -> None:
    sb.set_knobs(igdb={"rate_limit_enabled": True})

    statuses = [igdb.post("games", "fields name; limit 1;").status_code for _ in range(6)]

    assert 429 in statuses
    assert statuses[:4] == [200, 200, 200, 200]
    assert sb.stats().rate_limited["igdb"] >= 1


def test_retry_after_only_when_configured(igdb: Any, sb: Sandbox) -> None:
    sb.set_knobs(igdb={"burst_429_rate": 1.0})
    plain = igdb.post("games", "fields name;")
    sb.set_knobs(igdb={"retry_after_seconds": 2})
    with_header = igdb.post("games", "fields name;")

    assert plain.status_code == with_header.status_code == 429
    assert "retry-after" not in plain.headers
    assert with_header.headers["retry-after"] == "2"


def test_a_multiquery_counts_as_one_request(igdb: Any, sb: Sandbox) -> None:
    sb.set_knobs(igdb={"rate_limit_enabled": True})
    body = "".join(f'query games "q{i}" {{ fields name; limit 1; }};' for i in range(10))

    statuses = [igdb.post("multiquery", body).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 200]


async def test_more_than_eight_in_flight_meets_a_429(sb: Sandbox, igdb: Any) -> None:
    sb.set_knobs(igdb={"rate_limit_enabled": True, "requests_per_second": 100, "latency_ms": 400})

    async with httpx.AsyncClient(base_url=sb.base_url, headers=igdb.headers(), timeout=10) as c:
        responses = await asyncio.gather(
            *(c.post("/v4/games", content="fields name; limit 1;") for _ in range(9))
        )

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(429) >= 1
    assert statuses.count(200) == 8
    assert sb.stats().igdb_in_flight_peak >= 9


def test_admin_endpoints(http: httpx.Client, sb: Sandbox, igdb: Any) -> None:
    igdb.post("games", "fields name;")
    stats = http.get("/_sandbox/stats").json()
    knobs = http.post("/_sandbox/knobs", json={"igdb": {"latency_ms": 5}}).json()
    invalid = http.post("/_sandbox/knobs", json={"igdb": {"latency_ms": -1}})
    users = http.get("/_sandbox/users").json()
    truth = http.get("/_sandbox/ground-truth/small").json()

    assert stats["requests"]["igdb"]["games"] == {"200": 1}
    assert knobs["igdb"]["latency_ms"] == 5
    assert sb.knobs.igdb.latency_ms == 5
    assert invalid.status_code == 422
    assert {u["name"] for u in users} >= {"small", "huge", "nonexistent"}
    assert len(truth) == sb.users.small.expected_game_count
    http.post("/_sandbox/reset", json={})
    assert sb.stats().total() == 0
    assert sb.knobs.igdb.latency_ms == 0
