"""The fingerprint a re-import compares with the committed state: one value however the library
is read (stage 1's Steam answer, stage 2's raw CSV cells), and changed by exactly what matters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lambdas.models.csv_codec import encode_rows, header_of, iter_records
from lambdas.models.events import EnrichmentStats, LibraryState, ReuseWindows
from lambdas.models.library_state import (
    COMPARED_COLUMNS,
    current_inputs,
    fingerprint,
    fingerprint_of_joined,
    library_fingerprint,
    record_key,
)
from lambdas.models.rows import RawGameRow
from lambdas.models.steam import OwnedGame, OwnedGamesResponse
from lambdas.steam.library import _library_key, to_raw_row

GAMES = [
    OwnedGame(appid=730, name='Counter-Strike 2, "CS2"', playtime_forever=-5),
    OwnedGame(appid=10, name="Nul\x00led\nname ™ 日本", playtime_forever=2**40),
    OwnedGame(appid=440, name="Team Fortress 2", rtime_last_played=2**33, img_icon_url="e3f"),
]
#: Every value as its column stores it: `_library_key` takes its direct path.
PLAIN_GAMES = [
    OwnedGame(
        appid=730, name='Counter-Strike 2, "CS2"', playtime_forever=5, playtime_deck_forever=1
    ),
    OwnedGame(appid=10, name="Line\nname ™ 日本", rtime_last_played=2**32 - 1, img_icon_url="a"),
    OwnedGame(appid=440, name="", playtime_forever=2**31 - 1, playtime_mac_forever=1),
]
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
WINDOWS = ReuseWindows.of(reuse_days=30, recheck_hours=24, type_ttl_days=7)


@pytest.mark.parametrize("games", [GAMES, PLAIN_GAMES, []], ids=["clamped", "as-sent", "empty"])
def test_stage_1_and_stage_2_compute_the_same_fingerprint(games: list[OwnedGame]) -> None:
    rows = [to_raw_row(game) for game in games]
    data = encode_rows(sorted(rows, key=lambda row: row.appid), RawGameRow)
    header = header_of(RawGameRow)
    indexes = [header.index(column) for column in COMPARED_COLUMNS]
    from_cells = fingerprint(
        record_key(record, indexes) for _, record in iter_records(data, RawGameRow)
    )
    assert _library_key(games) == library_fingerprint(rows) == from_cells


def test_what_the_database_stores_changes_it_and_the_two_week_playtime_does_not() -> None:
    rows = [to_raw_row(game) for game in GAMES]
    base = library_fingerprint(rows)
    two_weeks = [rows[0].model_copy(update={"playtime_2weeks": 99}), *rows[1:]]
    played = [rows[0].model_copy(update={"playtime_forever": 1}), *rows[1:]]
    assert library_fingerprint(two_weeks) == base
    assert library_fingerprint(played) != base
    assert library_fingerprint(rows[1:]) != base


def test_a_state_is_unchanged_only_with_the_same_inputs_inside_every_window() -> None:
    inputs = current_inputs("abc", mode="library")
    state = LibraryState(
        user_id="u1",
        inputs=inputs,
        enriched_location="file:///x-enriched.csv",
        matched_since=NOW - timedelta(days=29),
        unmatched_since=NOW - timedelta(hours=23),
        filtered_since=NOW - timedelta(days=6),
        stats=EnrichmentStats(processed=3, matched=1, unmatched=1, filtered=1),
    )
    assert state.unchanged_for(inputs, NOW, WINDOWS)
    assert not state.unchanged_for(current_inputs("abd", mode="library"), NOW, WINDOWS)
    assert not state.unchanged_for(current_inputs("abc", mode="curate"), NOW, WINDOWS)
    assert not state.unchanged_for(inputs, NOW + timedelta(hours=2), WINDOWS)  # unmatched due
    assert not state.model_copy(update={"version": 0}).unchanged_for(inputs, NOW, WINDOWS)
    # some apps were decided while Steam's store was down: the next import asks again
    assert not state.model_copy(update={"recheck": True}).unchanged_for(inputs, NOW, WINDOWS)
    reused = state.reused_stats()
    assert reused.reused == 2 and reused.processed == 3


def test_cells_holding_nul_are_never_taken_for_other_cells() -> None:
    """The cells are joined by NUL; a cell that holds one must not make two keys alike."""
    assert fingerprint([("1", "a\x00b", "c")]) != fingerprint([("1", "a", "b\x00c")])
    assert fingerprint([("1", "a", "")]) != fingerprint([("1", "", "a")])
    assert fingerprint([]) != fingerprint([("",)])


def test_joined_keys_give_the_fingerprint_of_their_tuples() -> None:
    """Sorting joined keys must order them as their tuples: app ids that are prefixes of one
    another ("1" < "12" < "123" < "2"), cells holding characters below and above the others."""
    keys = [
        ("12", "b", "0"),
        ("123", "\x01", "5"),
        ("1", "z\tz", ""),
        ("2", "", "1"),
        ("120", "日本 ™", "-3"),
    ]
    joined = ["\x00".join(key) for key in keys]
    assert fingerprint_of_joined(joined, 3) == fingerprint(keys)
    assert fingerprint_of_joined([], 3) == fingerprint([])
    # A cell holding NUL has no joined form: the caller falls back to the tuples.
    assert fingerprint_of_joined(["1\x00a\x00b\x00c"], 3) is None


def test_steam_text_is_cleaned_for_the_whole_answer_at_once() -> None:
    """NUL (sent as \\u0000) is dropped from every name and icon of an answer that holds one;
    the other games are kept as sent."""
    answer = (
        b'{"response": {"game_count": 2, "games": ['
        b'{"appid": 10, "name": "Nul\\u0000led", "img_icon_url": "a\\u0000b"},'
        b'{"appid": 20, "name": "Plain \\u00e9", "playtime_forever": 3}]}}'
    )
    games = OwnedGamesResponse.model_validate_json(answer).response.games or []
    assert [(game.name, game.img_icon_url) for game in games] == [("Nulled", "ab"), ("Plain é", "")]
    assert games[1].playtime_forever == 3
