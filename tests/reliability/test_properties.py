"""Property-based checks of the pure defences (hypothesis).

- IGDB string escaping: whatever text `lambdas.clients.apicalypse` quotes is read back exactly by
  the sandbox's Apicalypse parser, as one string token, in a where clause, a list, a search and a
  multiquery block name, and can never add a statement or clause.
- The CSV round trip: `tests/unit/models/test_csv_codec.py` proves raw and enriched rows round
  trip for arbitrary text without NUL; here, Steam text *with* NUL and numbers of any size either
  round trip (NUL dropped at the Steam edge) or fail as MALFORMED_CSV, never anything else.
- The classifier is total over arbitrary text: `tests/unit/enrichment/test_classifier.py`
  (`test_classify_is_total`); here, the title helpers the fallback feeds to IGDB are total too.
"""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.cases import HARD_NAMES
from tests.reliability.support import FIGURES

from lambdas.clients.apicalypse import multiquery_block, query, quote, string_list
from lambdas.enrichment.classifier import classify_steam_app
from lambdas.enrichment.matching import normalize_title, title_variants
from lambdas.errors import MalformedCsvError
from lambdas.models.csv_codec import decode_rows, encode_rows, header_of
from lambdas.models.rows import EnrichedGameRow, RawGameRow
from lambdas.models.steam import OwnedGame
from lambdas.steam.library import to_raw_row
from steam_sandbox.apicalypse import (
    Comparison,
    ListValue,
    LiteralValue,
    parse_multiquery,
    parse_query,
    tokenize,
)

SYNTAX = '"\\;{}()[]|&!=<>~*,'
texts = st.text() | st.sampled_from(HARD_NAMES) | st.text(alphabet=SYNTAX + string.ascii_letters)
EXAMPLES = 300


def sent(text: str) -> str:
    """What IGDB receives for `text`: control characters become spaces (no IGDB name has one)."""
    return "".join(ch if ch.isprintable() or ch == " " else " " for ch in text)


@given(texts)
@settings(max_examples=EXAMPLES)
def test_quote_is_one_string_token_read_back_exactly(text: str) -> None:
    FIGURES.record_examples()
    tokens = tokenize(quote(text))
    assert [token.kind for token in tokens] == ["string", "eof"]
    assert tokens[0].value == sent(text)
    if text.isprintable():
        assert tokens[0].value == text


@given(texts, texts)
@settings(max_examples=EXAMPLES)
def test_quoted_values_cannot_change_a_query(name: str, other: str) -> None:
    FIGURES.record_examples()
    where = f"name = {quote(name)} & slug = {string_list([name, other])}"
    parsed = parse_query(query(select="name,slug", where=where, search=other, limit=7))
    assert parsed.fields == ("name", "slug")
    assert parsed.limit == 7 and parsed.offset is None and parsed.sort is None
    assert parsed.search == sent(other)
    first, second = parsed.where.items  # type: ignore[union-attr]
    assert first == Comparison("name", "=", LiteralValue(sent(name), quote(name), True))
    assert isinstance(second, Comparison) and isinstance(second.value, ListValue)
    assert [item.value for item in second.value.items] == [sent(name), sent(other)]


@given(texts)
@settings(max_examples=EXAMPLES)
def test_multiquery_block_names_read_back(name: str) -> None:
    FIGURES.record_examples()
    blocks = parse_multiquery(
        multiquery_block("games", name, query(select="name", where=f"name = {quote(name)}"))
    )
    assert len(blocks) == 1
    assert blocks[0].name == sent(name)
    assert blocks[0].query.where == Comparison(
        "name", "=", LiteralValue(sent(name), quote(name), True)
    )


@given(st.text(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70))
@settings(max_examples=EXAMPLES)
def test_steam_text_and_numbers_always_round_trip(name: str, minutes: int, last: int) -> None:
    """Whatever Steam sends, stage 1's row is storable: it reads back exactly (minus NUL)."""
    FIGURES.record_examples()
    game = OwnedGame(appid=10, name=name, playtime_forever=minutes, rtime_last_played=last)
    row = to_raw_row(game)
    assert row.name == name.replace("\x00", "")
    assert decode_rows(encode_rows([row], RawGameRow), RawGameRow) == [row]


NUMERIC_COLUMNS = ["appid", "playtime_forever", "rtime_last_played", "igdb_id", "igdb_game_type"]


@given(st.sampled_from(NUMERIC_COLUMNS), st.integers(min_value=-(2**80), max_value=2**80))
@settings(max_examples=EXAMPLES)
def test_any_number_in_a_csv_reads_back_or_is_malformed(column: str, value: int) -> None:
    FIGURES.record_examples()
    header = header_of(EnrichedGameRow)
    cells = dict.fromkeys(header, "")
    cells.update(
        appid="10",
        name="Game",
        kind="GAME",
        classifier_rule="default",
        match_status="UNMATCHED",
        match_method="none",
        genres="[]",
        platforms="[]",
        candidates="[]",
    )
    for numeric in ("playtime_forever", "playtime_2weeks", "playtime_windows_forever"):
        cells[numeric] = "0"
    cells[column] = str(value)
    data = (",".join(header) + "\r\n" + ",".join(cells[name] for name in header) + "\r\n").encode()
    try:
        rows = decode_rows(data, EnrichedGameRow)
    except MalformedCsvError:
        return
    assert getattr(rows[0], column) == value
    assert abs(value) < 2**32  # nothing a database column cannot hold got through


@given(texts)
@settings(max_examples=EXAMPLES)
def test_title_helpers_are_total(name: str) -> None:
    FIGURES.record_examples()
    classify_steam_app(name)
    normalize_title(name)
    for variant in title_variants(name):
        assert variant and variant == variant.strip()
