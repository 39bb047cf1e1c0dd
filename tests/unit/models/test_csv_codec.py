"""CSV round trip is lossless; every deviation from the contract is MALFORMED_CSV."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from tests.cases import HARD_NAMES

from lambdas.errors import MalformedCsvError
from lambdas.models.csv_codec import (
    MAX_JSON_DEPTH,
    MAX_NUMBER_CHARS,
    _json_cell,
    decode_rows,
    encode_rows,
    header_of,
)
from lambdas.models.rows import (
    AppKind,
    Candidate,
    EnrichedGameRow,
    GenreRef,
    MatchMethod,
    MatchStatus,
    PlatformRef,
    RawGameRow,
)
from lambdas.models.text import title_problem

names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=200,
) | st.sampled_from(HARD_NAMES)
minutes = st.integers(min_value=0, max_value=2**31 - 1)
# IGDB text as IGDB holds it (rows.py refuses control and bidi-override characters in it).
titles = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"),
        blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    ),
    max_size=200,
) | st.sampled_from([name for name in HARD_NAMES if title_problem(name) is None])

raw_rows = st.builds(
    RawGameRow,
    appid=st.integers(min_value=1, max_value=2**32 - 1),
    name=names,
    playtime_forever=minutes,
    playtime_windows_forever=minutes,
    playtime_mac_forever=minutes,
    playtime_linux_forever=minutes,
    playtime_deck_forever=minutes,
    rtime_last_played=st.integers(min_value=0, max_value=2**32 - 1),
    img_icon_url=st.from_regex(r"[0-9a-f]{40}|", fullmatch=True),
    has_community_visible_stats=st.booleans(),
)


@given(st.lists(raw_rows, max_size=20, unique_by=lambda row: row.appid))
@settings(max_examples=150, deadline=None)
def test_raw_round_trip(rows: list[RawGameRow]) -> None:
    assert decode_rows(encode_rows(rows, RawGameRow), RawGameRow) == rows


@given(name=names, title=titles, genre_name=titles, summary=st.none() | titles.filter(bool))
@settings(max_examples=100, deadline=None)
def test_enriched_round_trip(name: str, title: str, genre_name: str, summary: str | None) -> None:
    row = EnrichedGameRow(
        appid=10,
        name=name,
        kind=AppKind.GAME,
        classifier_rule="default_game",
        match_status=MatchStatus.MATCHED,
        match_method=MatchMethod.STEAM_APP_ID,
        igdb_id=7,
        igdb_name=title or None,
        igdb_summary=summary,
        genres=[GenreRef(id=1, name=genre_name, slug="x", checksum=None)],
        platforms=[PlatformRef(id=6, name="PC (Microsoft Windows)", slug="win", generation=None)],
        candidates=[Candidate(igdb_id=3, name=genre_name, year=1999)],
    )
    assert decode_rows(encode_rows([row], EnrichedGameRow), EnrichedGameRow) == [row]


def _csv(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


HEADER = ",".join(header_of(RawGameRow))
GOOD_ROW = "620,Portal 2,1,0,1,0,0,0,0,0,,false"


def test_header_only_is_zero_rows() -> None:
    assert decode_rows(_csv(HEADER), RawGameRow) == []


def test_utf8_bom_is_accepted() -> None:
    rows = decode_rows(b"\xef\xbb\xbf" + _csv(HEADER, GOOD_ROW), RawGameRow)
    assert rows[0].name == "Portal 2"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no header"),
        (_csv("appid,name", "1,x"), "missing playtime_forever"),
        (_csv(HEADER + ",extra", GOOD_ROW + ",1"), "unexpected extra"),
        (_csv(HEADER + ",name", GOOD_ROW + ",x"), "duplicated name"),
        (_csv(",".join(reversed(header_of(RawGameRow))), GOOD_ROW), "different order"),
        (_csv(HEADER, "620,Portal 2,1"), "3 fields"),
        (
            _csv(HEADER, GOOD_ROW, "7,x,1,0,1,0,0,0,0,0,,false", GOOD_ROW),
            "line 4 repeats appid 620",
        ),
        (_csv(HEADER, GOOD_ROW + ",1"), "13 fields"),
        (_csv(HEADER, GOOD_ROW).rstrip(b"\r\n"), "truncated"),
        (_csv(HEADER, '620,"Portal 2,1,0,1,0,0,0,0,0,,false'), "not valid CSV"),
        (_csv(HEADER, "620,Por\x00tal,1,0,1,0,0,0,0,0,,false"), "NUL"),
        (_csv(HEADER, "abc,Portal 2,1,0,1,0,0,0,0,0,,false"), "line 2: appid"),
        (_csv(HEADER, "-5,Portal 2,1,0,1,0,0,0,0,0,,false"), "appid"),
        (_csv(HEADER, "99999999999,Portal 2,1,0,1,0,0,0,0,0,,false"), "appid"),
        (_csv(HEADER, "620,Portal 2,-1,0,1,0,0,0,0,0,,false"), "playtime_forever"),
        (_csv(HEADER, "620,Portal 2,1,0,1,0,0,0,0,0,,maybe"), "has_community_visible_stats"),
        ("appid,name\r\n1,caf\xe9\r\n".encode("latin-1"), "not UTF-8"),
        (_csv(HEADER, "620," + "x" * 1_000_001 + ",1,0,1,0,0,0,0,0,,false"), "longer than"),
    ],
)
def test_malformed(data: bytes, message: str) -> None:
    with pytest.raises(MalformedCsvError, match=message):
        decode_rows(data, RawGameRow)


def test_formula_like_names_round_trip_unchanged() -> None:
    row = RawGameRow(appid=1, name="=cmd|' /C calc'!A0")
    assert decode_rows(encode_rows([row], RawGameRow), RawGameRow) == [row]


def test_bad_json_column() -> None:
    row = EnrichedGameRow(
        appid=1,
        name="x",
        kind=AppKind.GAME,
        classifier_rule="r",
        match_status=MatchStatus.UNMATCHED,
    )
    data = encode_rows([row], EnrichedGameRow).replace(b",[],[],[],", b",[oops,[],[],")
    with pytest.raises(MalformedCsvError, match="genres is not valid JSON"):
        decode_rows(data, EnrichedGameRow)


@pytest.mark.parametrize(
    ("cell", "refused"),
    [
        ("[" + "9" * MAX_NUMBER_CHARS + "]", None),
        ("[" + "9" * (MAX_NUMBER_CHARS + 1) + "]", "holds a number"),
        ("[-" + "9" * (MAX_NUMBER_CHARS - 1) + "]", None),
        ("[-" + "9" * MAX_NUMBER_CHARS + "]", "holds a number"),
        ('["' + "9" * 40 + '"]', None),  # a long digit run inside a string is text
        ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, None),
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "nests JSON deeper"),
        ('[{"a": [1]}, {"b": [2]}, {"c": [3]}]', None),  # many brackets, shallow
    ],
)
def test_json_cells_at_the_bounds(cell: str, refused: str | None) -> None:
    if refused is None:
        assert _json_cell(cell, "genres") is not None
    else:
        with pytest.raises(MalformedCsvError, match=refused):
            _json_cell(cell, "genres")


def test_rows_that_share_a_genre_cell_share_only_frozen_models() -> None:
    genres = [GenreRef(id=12, name="Role-playing (RPG)", slug="rpg", checksum=None)]
    rows = [
        EnrichedGameRow(
            appid=appid,
            name=f"Game {appid}",
            kind=AppKind.GAME,
            classifier_rule="r",
            match_status=MatchStatus.MATCHED,
            igdb_id=appid,
            genres=genres,
        )
        for appid in (1, 2)
    ]
    first, second = decode_rows(encode_rows(rows, EnrichedGameRow), EnrichedGameRow)
    assert first.genres == second.genres == genres
    assert first.genres is not second.genres  # each row its own list
    with pytest.raises(ValidationError):  # the models a cell decodes to are shared, and frozen
        first.genres[0].name = "Changed"  # type: ignore[misc]
