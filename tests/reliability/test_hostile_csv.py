"""Hostile stored CSVs at stage 2 (raw) and stage 3 (enriched): each is rejected as MALFORMED_CSV
with a clear message and nothing written, or handled correctly (BOM, formula-like names, header
only, bare LF line endings). The mutated enriched CSVs are signed with the pipeline's key, as if
stage 2 itself had written them: the strict reading holds whatever the signature says. Files it
did not sign (hand-made, edited, another user's) are at the end: they write only their user's
own rows."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from tests.reliability.support import (
    USER,
    Figures,
    Harness,
    differences,
    empty_tables,
    outcome,
    sandbox_settings,
)

from lambdas.clients.s3 import LocalStorage, forget_library_state
from lambdas.clients.signing import signer_from_settings, store_signed
from lambdas.enrichment.enrich import enrich_library
from lambdas.models.csv_codec import decode_rows
from lambdas.models.rows import EnrichedGameRow, MatchStatus
from lambdas.pipeline import PipelineResult, Stage
from lambdas.steam.library import import_steam_library
from steam_sandbox import Sandbox

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3+cmd|' /C notepad'!'A1'", '@HYPERLINK("x")']


@dataclass(frozen=True)
class StoredCsvs:
    raw: bytes
    enriched: bytes


@pytest.fixture(scope="session")
def small_csvs(rel_sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> StoredCsvs:
    """The `small` user's raw and enriched CSVs (25 apps: every kind of row), made once."""
    data = tmp_path_factory.mktemp("small-csvs") / "data"
    settings = sandbox_settings(rel_sandbox, data)
    storage = LocalStorage(data)
    raw = asyncio.run(
        import_steam_library(
            user_id=USER,
            account=str(rel_sandbox.users.by_name("small").steamid64),
            settings=settings,
            storage=storage,
            now=NOW,
            import_id="hostile",
        )
    )
    enriched = asyncio.run(
        enrich_library(
            user_id=USER, location=raw.location, settings=settings, storage=storage, now=NOW
        )
    )
    return StoredCsvs(
        raw=storage.get(raw.location, user_id=USER),
        enriched=storage.get(enriched.location, user_id=USER),
    )


# -- mutations -------------------------------------------------------------------------------------


def _table(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _bytes(table: list[list[str]], terminator: str = "\r\n") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=terminator).writerows(table)
    return buffer.getvalue().encode("utf-8")


def _set_cell(data: bytes, column: str, value: str, row: int = 1) -> bytes:
    table = _table(data)
    table[row][table[0].index(column)] = value
    return _bytes(table)


def _columns(data: bytes, change: Callable[[list[str]], list[str]]) -> bytes:
    return _bytes([change(list(row)) for row in _table(data)])


def _swap(row: list[str]) -> list[str]:
    row[0], row[1] = row[1], row[0]
    return row


def _drop_name(row: list[str], index: int) -> list[str]:
    return row[:index] + row[index + 1 :]


def _name_index(data: bytes) -> int:
    return _table(data)[0].index("name")


MUTATIONS: dict[str, tuple[Callable[[bytes], bytes], str | None]] = {
    # name: (mutation, the message MALFORMED_CSV must carry; None = handled, not rejected)
    "truncated-mid-row": (lambda data: data[:-15], "truncated"),
    "truncated-inside-quotes": (
        lambda data: data + b'570,"Half-Life \xe2\x80\x94 the unfinished\r\n',
        "not valid CSV|fields",
    ),
    "extra-column": (
        lambda data: _columns(data, lambda row: [*row, "extra"]),
        "unexpected extra",
    ),
    "extra-cell-in-one-row": (
        lambda data: _bytes(
            [row + (["x"] if i == 3 else []) for i, row in enumerate(_table(data))]
        ),
        "line 4 has",
    ),
    "missing-column": (
        lambda data: _columns(data, lambda row: _drop_name(row, _name_index(data))),
        "missing name",
    ),
    "duplicated-column": (
        lambda data: _columns(data, lambda row: [*row, row[_name_index(data)]]),
        "duplicated name",
    ),
    "reordered-columns": (lambda data: _columns(data, _swap), "different order"),
    "duplicate-app-id": (
        lambda data: data + _bytes([_table(data)[1]]),
        "repeats appid",
    ),
    "megabyte-name": (
        lambda data: _set_cell(data, "name", "A" * 1_048_576),
        "longer than|field limit",
    ),
    "megabyte-header": (lambda data: b"X" * 900_000 + b"," + data, "header does not match"),
    "nul-byte-in-name": (lambda data: _set_cell(data, "name", "Half\x00Life"), "NUL"),
    "not-utf8": (lambda data: data.replace(b"appid", b"app\xe9d", 1), "not UTF-8"),
    "empty-file": (lambda data: b"", "empty"),
    "json-instead-of-csv": (lambda data: b'{"games": []}\n', "header"),
    "negative-playtime": (
        lambda data: _set_cell(data, "playtime_forever", "-5"),
        "playtime_forever",
    ),
    "app-id-zero": (lambda data: _set_cell(data, "appid", "0"), "appid"),
    "app-id-overflow": (lambda data: _set_cell(data, "appid", str(2**32)), "appid"),
    "app-id-unicode-digits": (lambda data: _set_cell(data, "appid", "٥٧٠"), "appid"),
    # Strict integers, as stage 1 writes them: pydantic's lax parsing took these.
    "app-id-padded": (lambda data: _set_cell(data, "appid", " 630 "), "appid is not an integer"),
    "app-id-underscores": (
        lambda data: _set_cell(data, "appid", "1_000"),
        "appid is not an integer",
    ),
    "playtime-plus-sign": (
        lambda data: _set_cell(data, "playtime_forever", "+5"),
        "playtime_forever is not an integer",
    ),
    "playtime-overflows-int4": (
        lambda data: _set_cell(data, "playtime_forever", str(2**31)),
        "playtime_forever",
    ),
    "last-played-overflow": (
        lambda data: _set_cell(data, "rtime_last_played", str(2**40)),
        "rtime_last_played",
    ),
    "utf8-bom": (lambda data: b"\xef\xbb\xbf" + data, None),
    "bare-lf-line-endings": (lambda data: _bytes(_table(data), "\n"), None),
    "header-only": (lambda data: data.split(b"\r\n", 1)[0] + b"\r\n", None),
    "formula-like-names": (
        lambda data: _bytes(
            [
                row if i == 0 else _with_name(row, _name_index(data), FORMULAS[i % len(FORMULAS)])
                for i, row in enumerate(_table(data))
            ]
        ),
        None,
    ),
}

BEYOND_INT4 = 2**31 + 5
RTL_TITLE = "\u200fשר הטבעות: המלחמה על הצפון"  # Hebrew, with a right-to-left mark

ENRICHED_ONLY: dict[str, tuple[Callable[[bytes], bytes], str | None]] = {
    "matched-app-id-beyond-int4": (
        lambda data: _set_cell(data, "appid", str(BEYOND_INT4), row=_matched_row(data)),
        None,
    ),
    "bad-json-genres": (
        lambda data: _set_cell(data, "genres", "[{oops"),
        "genres is not valid JSON",
    ),
    "unknown-match-status": (
        lambda data: _set_cell(data, "match_status", 'MATCHED\'; DROP TABLE "Game"; --'),
        "match_status",
    ),
    "igdb-id-overflows-int4": (
        lambda data: _set_cell(data, "igdb_id", str(2**31), row=_matched_row(data)),
        "igdb_id",
    ),
    "release-date-overflow": (
        lambda data: _set_cell(
            data, "igdb_first_release_date", str(10**15), row=_matched_row(data)
        ),
        "igdb_first_release_date",
    ),
    # JSON cells that crashed the decoder or the writer with a traceback.
    "json-nested-200000-deep": (
        lambda data: _set_cell(data, "genres", "[" * 200_000 + "]" * 200_000),
        "genres nests JSON deeper",
    ),
    "json-integer-4400-digits": (
        lambda data: _set_cell(data, "genres", '[{"id":' + "9" * 4400 + ',"name":"x","slug":"x"}]'),
        "genres holds a number of 4400 characters",
    ),
    "json-lone-surrogate": (
        lambda data: _set_cell(data, "genres", '[{"id":1,"name":"\\ud800","slug":"x"}]'),
        "genres holds a NUL or a lone surrogate",
    ),
    "json-escaped-nul": (
        lambda data: _set_cell(data, "platforms", '[{"id":6,"name":"P\\u0000C","slug":"win"}]'),
        "platforms holds a NUL or a lone surrogate",
    ),
    # IGDB metadata that IGDB itself never sends: it would land in the shared Game rows.
    "igdb-id-zero": (
        lambda data: _set_cell(data, "igdb_id", "0", row=_matched_row(data)),
        "igdb_id: Value error, an IGDB id is a positive integer",
    ),
    "igdb-id-negative": (
        lambda data: _set_cell(data, "igdb_id", "-1", row=_matched_row(data)),
        "igdb_id: Value error, an IGDB id is a positive integer",
    ),
    "genre-id-zero": (
        lambda data: _set_cell(
            data, "genres", '[{"id":0,"name":"x","slug":"x"}]', row=_matched_row(data)
        ),
        "genres.0.id",
    ),
    "cover-javascript-url": (
        lambda data: _set_cell(data, "cover_url", "javascript:alert(1)", row=_matched_row(data)),
        "cover_url",
    ),
    "cover-url-other-host": (
        lambda data: _set_cell(
            data,
            "cover_url",
            "https://images.igdb.com.evil.example/t_x/co1.jpg",
            row=_matched_row(data),
        ),
        "cover_url",
    ),
    "cover-url-plain-http": (
        lambda data: _set_cell(
            data,
            "cover_url",
            "http://images.igdb.com/igdb/image/upload/t_cover_big/co1wyy.jpg",
            row=_matched_row(data),
        ),
        "cover_url",
    ),
    "cover-image-id-path": (
        lambda data: _set_cell(data, "igdb_cover_image_id", "../../evil", row=_matched_row(data)),
        "igdb_cover_image_id",
    ),
    "title-bidi-override": (
        lambda data: _set_cell(data, "igdb_name", "Half\u202eefiL", row=_matched_row(data)),
        "igdb_name: Value error, the title holds the control character U+202E",
    ),
    "title-escape-sequence": (
        lambda data: _set_cell(data, "igdb_name", "Half\x1b[2JLife", row=_matched_row(data)),
        "igdb_name: Value error, the title holds the control character U+001B",
    ),
    "title-right-to-left": (
        lambda data: _set_cell(data, "igdb_name", RTL_TITLE, row=_matched_row(data)),
        None,
    ),
    "genre-id-overflows-int4": (
        lambda data: _set_cell(
            data,
            "genres",
            '[{"id":2147483648,"name":"Big","slug":"big"}]',
            row=_matched_row(data),
        ),
        "genres",
    ),
}


def _with_name(row: list[str], index: int, name: str) -> list[str]:
    row = list(row)
    row[index] = name
    return row


def _matched_row(data: bytes) -> int:
    table = _table(data)
    status = table[0].index("match_status")
    return next(i for i, row in enumerate(table) if i and row[status] == "MATCHED")


CASES = [
    pytest.param(stage, name, id=f"{stage.value}-{name}")
    for stage in (Stage.ENRICH, Stage.LOAD)
    for name in (*MUTATIONS, *(ENRICHED_ONLY if stage is Stage.LOAD else ()))
]


def _store(
    harness: Harness, stage: Stage, data: bytes, tag: str, *, signed: bool = True
) -> dict[str, str]:
    suffix = "raw" if stage is Stage.ENRICH else "enriched"
    key = f"imports/{USER}/20260101T000000000000Z-{tag}-{suffix}.csv"
    if stage is Stage.LOAD and signed:
        signer = signer_from_settings(harness.settings)
        location = store_signed(harness.storage, key, data, user_id=USER, signer=signer)
    else:
        location = harness.storage.put(key, data)
    field = "s3_location" if stage is Stage.ENRICH else "s3_enriched_location"
    return {"user_id": USER, field: location}


def _run(harness: Harness, stage: Stage, data: bytes, tag: str) -> PipelineResult:
    return harness.run(from_stage=stage, event=_store(harness, stage, data, tag))


@pytest.mark.parametrize(("stage", "name"), CASES)
def test_hostile_csv(
    stage: Stage, name: str, harness: Harness, small_csvs: StoredCsvs, reliability: Figures
) -> None:
    mutate, message = {**MUTATIONS, **ENRICHED_ONLY}[name]
    original = small_csvs.raw if stage is Stage.ENRICH else small_csvs.enriched
    hostile = mutate(original)
    with reliability.hostile_input(f"csv at {stage.value}: {name}"):
        before = harness.snapshot()
        keys_before = set(harness.stored_keys())
        result = _run(harness, stage, hostile, "hostile")
        if message is not None:
            assert outcome(result) == "MALFORMED_CSV", result.as_dict()
            assert result.failed is not None and result.failed.stage is stage
            error = result.failed.response.error or ""
            assert any(part in error for part in message.split("|")), error
            assert len(error) < 400, error  # a clear message, not the row echoed back
            state = harness.snapshot()
            assert state == before, differences(before, state)
            written = set(harness.stored_keys()) - keys_before
            assert all(
                key.endswith(
                    "-hostile-raw.csv" if stage is Stage.ENRICH else "-hostile-enriched.csv"
                )
                for key in written
            ), written
            return
        assert outcome(result) == "success", result.as_dict()
        _check_handled(name, stage, harness, original, result)


def _check_handled(
    name: str, stage: Stage, harness: Harness, original: bytes, result: PipelineResult
) -> None:
    if name == "header-only":
        # Loading nothing must never shrink the library a full import made.
        full = _run(harness, stage, original, "full")
        assert full.success
        state = harness.snapshot()
        assert _run(harness, stage, original.split(b"\r\n", 1)[0] + b"\r\n", "empty").success
        assert harness.snapshot() == state
        return
    if name == "matched-app-id-beyond-int4":
        # A valid (uint32) Steam app id the app's INTEGER Game.steamAppId cannot hold.
        with harness.engine.connect() as connection:
            found = connection.exec_driver_sql(
                'SELECT i."igdbMatchStatus"::text, g."steamAppId" FROM "ImportedGame" i '
                'JOIN "LibraryItem" l ON l."userId" = i."userId" '
                'JOIN "Game" g ON g.id = l."gameId" AND g."steamAppId" IS NULL '
                'WHERE i."storefrontGameId" = %(appid)s',
                {"appid": str(BEYOND_INT4)},
            ).all()
        assert found and found[0][0] == "MATCHED", found
        return
    if name == "title-right-to-left":
        with harness.engine.connect() as connection:
            titles = {row[0] for row in connection.exec_driver_sql('SELECT title FROM "Game"')}
        assert RTL_TITLE in titles  # real right-to-left text is a title like any other
        return
    if name == "formula-like-names":
        with harness.engine.connect() as connection:
            stored = {
                row[0]
                for row in connection.exec_driver_sql('SELECT name FROM "ImportedGame"').all()
            }
        assert set(FORMULAS) <= stored, stored  # verbatim: data, never evaluated or altered
        enriched = result.response(Stage.ENRICH)
        if enriched is not None:
            rows = decode_rows(
                harness.storage.get(enriched.s3_enriched_location, user_id=USER), EnrichedGameRow
            )
            assert {row.name for row in rows} >= set(FORMULAS)
        return
    # BOM and bare LF: the same database as the original CSV gives.
    state = harness.snapshot()
    empty_tables(harness.engine)
    forget_library_state(harness.storage, USER)  # wiped tables: the committed state goes too
    harness.ensure_user()
    assert _run(harness, stage, original, "plain").success
    plain = harness.snapshot()
    assert state == plain, differences(plain, state)
    assert any(row for row in plain["ImportedGame"])


def test_matched_rows_keep_their_games(harness: Harness, small_csvs: StoredCsvs) -> None:
    """The enriched CSV this module mutates does carry MATCHED rows with genres (so the
    overflow cases above really hit a matched row)."""
    rows = decode_rows(small_csvs.enriched, EnrichedGameRow)
    assert any(row.match_status is MatchStatus.MATCHED and row.genres for row in rows)


def _catalogue(harness: Harness) -> dict[str, list[dict[str, object]]]:
    state = harness.snapshot()
    return {name: state[name] for name in ("Game", "Genre", "Platform", "GameGenre")}


def _hijacked(data: bytes) -> bytes:
    """Every matched row's title, genre and platform names rewritten."""
    table = _table(data)
    header = table[0]
    status, title = header.index("match_status"), header.index("igdb_name")
    genres, platforms = header.index("genres"), header.index("platforms")
    for row in table[1:]:
        if row[status] == "MATCHED":
            row[title] = "HIJACKED: visit evil.example"
            row[genres] = '[{"id":15,"name":"PWNED GENRE","slug":"pwned-genre"}]'
            row[platforms] = '[{"id":6,"name":"Evil OS","slug":"evil-os"}]'
    return _bytes(table)


UNVERIFIED = ("unsigned", "edited-after-signing", "signed-for-another-user")


@pytest.mark.parametrize("name", UNVERIFIED)
def test_a_file_stage_2_did_not_sign_writes_only_its_users_own_rows(
    name: str, harness: Harness, small_csvs: StoredCsvs, reliability: Figures
) -> None:
    assert harness.run().success  # the user's library first: Games, genres, platforms to attack
    with reliability.hostile_input(f"csv at load: {name}"):
        hostile = _hijacked(small_csvs.enriched)
        location = _store(harness, Stage.LOAD, hostile, name, signed=False)
        key = harness.storage.key_of(location["s3_enriched_location"], user_id=USER)
        signer = signer_from_settings(harness.settings)
        if name == "edited-after-signing":
            harness.storage.put_signature(key, signer.sign(USER, small_csvs.enriched))
        elif name == "signed-for-another-user":
            harness.storage.put_signature(key, signer.sign("someone-else", hostile))
        before = _catalogue(harness)
        result = harness.run(from_stage=Stage.LOAD, event=location)
        assert outcome(result) == "success", result.as_dict()
        load = result.response(Stage.LOAD)
        assert load is not None and load.stats.catalogue_verified is False
        assert (load.stats.games_created, load.stats.games_updated) == (0, 0)
        assert load.stats.imported_games_created + load.stats.imported_games_updated > 0
        after = _catalogue(harness)
        assert after == before, differences(before, after)
