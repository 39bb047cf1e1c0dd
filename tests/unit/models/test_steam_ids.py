"""Steam account parsing: every form a person pastes, and hostile input, with no network."""

from __future__ import annotations

import pytest

from lambdas.errors import InvalidSteamIdError
from lambdas.models.steam import (
    STEAM_ID64_BASE,
    STEAM_ID64_MAX,
    SteamAccountRef,
    parse_steam_account,
    parse_steam_id64,
)

GABE = 76561197960287930
ACCOUNT = 76561197960361544  # account id 95816


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("76561197960361544", SteamAccountRef(steam_id64=ACCOUNT)),
        ("  76561197960361544\n", SteamAccountRef(steam_id64=ACCOUNT)),
        ("STEAM_1:0:47908", SteamAccountRef(steam_id64=ACCOUNT)),
        ("STEAM_0:0:47908", SteamAccountRef(steam_id64=ACCOUNT)),
        ("steam_1:0:47908", SteamAccountRef(steam_id64=ACCOUNT)),
        ("STEAM_0:1:11101", SteamAccountRef(steam_id64=STEAM_ID64_BASE + 22203)),
        ("[U:1:95816]", SteamAccountRef(steam_id64=ACCOUNT)),
        ("U:1:95816", SteamAccountRef(steam_id64=ACCOUNT)),
        (
            "https://steamcommunity.com/profiles/76561197960361544",
            SteamAccountRef(steam_id64=ACCOUNT),
        ),
        (
            "https://steamcommunity.com/profiles/76561197960361544/",
            SteamAccountRef(steam_id64=ACCOUNT),
        ),
        (
            "http://www.steamcommunity.com/profiles/76561197960361544/?l=english",
            SteamAccountRef(steam_id64=ACCOUNT),
        ),
        ("steamcommunity.com/profiles/76561197960361544", SteamAccountRef(steam_id64=ACCOUNT)),
        ("https://steamcommunity.com/profiles/[U:1:95816]/", SteamAccountRef(steam_id64=ACCOUNT)),
        (
            "https://steamcommunity.com/profiles/76561197960361544/games/?tab=all",
            SteamAccountRef(steam_id64=ACCOUNT),
        ),
        (
            "https://steamcommunity.com/id/gabelogannewell",
            SteamAccountRef(vanity="gabelogannewell"),
        ),
        (
            "https://steamcommunity.com/id/gabelogannewell/",
            SteamAccountRef(vanity="gabelogannewell"),
        ),
        (
            "steamcommunity.com/id/gabelogannewell?x=1#top",
            SteamAccountRef(vanity="gabelogannewell"),
        ),
        ("www.steamcommunity.com/id/my-name_2/", SteamAccountRef(vanity="my-name_2")),
        ("HTTPS://SteamCommunity.com/id/CaseKept", SteamAccountRef(vanity="CaseKept")),
        ("https://steamcommunity.com/id/12345", SteamAccountRef(vanity="12345")),
        ("gabelogannewell", SteamAccountRef(vanity="gabelogannewell")),
        ("gabe_newell", SteamAccountRef(vanity="gabe_newell")),
        ("12345", SteamAccountRef(vanity="12345")),
    ],
)
def test_accepted_forms(text: str, expected: SteamAccountRef) -> None:
    assert parse_steam_account(text) == expected


def test_instance_bits_are_canonicalised() -> None:
    other_instance = ACCOUNT & ~(0xFFFFF << 32) | (2 << 32)
    assert parse_steam_id64(str(other_instance)) == ACCOUNT


def test_range_bounds() -> None:
    assert parse_steam_account(str(STEAM_ID64_MAX)).steam_id64 == STEAM_ID64_MAX
    assert parse_steam_account(str(STEAM_ID64_BASE + 1)).steam_id64 == STEAM_ID64_BASE + 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "not-an-id",
        '\'; DROP TABLE "User"; --',
        "76561197960361544; DROP TABLE users",
        "76561197960361544 OR 1=1",
        "$(rm -rf /)",
        "`id`",
        "gabe&key=stolen",
        "gabe?steamid=1",
        "a" * 10_000,
        "7" * 10_000,
        "７６５６１１９７９６０３６１５４４",  # full-width digits
        "٧٦٥٦١١٩٧٩٦٠٣٦١٥٤٤",  # Arabic-Indic digits
        "-76561197960361544",
        "+76561197960361544",
        "-1",
        "99999999999999999999999",
        "18446744073709551616",
        str(STEAM_ID64_BASE),  # account id 0
        str(STEAM_ID64_MAX + 1),
        "103582791429521408",  # a group id
        "[G:1:4]",
        "[U:1:0]",
        "[U:1:4294967296]",
        "STEAM_1:2:1",
        "STEAM_9:0:1",
        "https://steamcommunity.com/groups/valve",
        "https://evil.example/id/gabelogannewell",
        "https://steamcommunity.com.evil.example/id/gabe",
        "https://steamcommunity.com/profiles/gabe",
        "https://steamcommunity.com/id/../../etc/passwd",
        "https://steamcommunity.com/id/a%20b",
        "gabe\x00newell",
        "gabe\nnewell",
        "x",
        "a" * 33,
    ],
)
def test_rejected_input(text: str) -> None:
    with pytest.raises(InvalidSteamIdError) as info:
        parse_steam_account(text)
    assert info.value.code == "INVALID_STEAM_ID"
    assert len(info.value.message) < 300  # a 10k paste is not echoed back whole


@pytest.mark.parametrize(
    "text",
    [
        "steamcommunity.com/profiles/76561197961166729/../../id/someone",
        "https://steamcommunity.com/profiles/76561197961166729/..",
        "https://steamcommunity.com/id/someone/./",
        "https://steamcommunity.com/profiles/76561197961166729/%2e%2e/%2E%2E/id/someone",
        "https://steamcommunity.com/id/someone/.%2e/x",
    ],
)
def test_profile_urls_with_dot_segments_are_refused(text: str) -> None:
    """The first imported 76561197961166729 while a browser opens /id/someone: which account a
    URL with `.` or `..` segments names is ambiguous, so it is refused, not guessed."""
    with pytest.raises(InvalidSteamIdError, match=r"'\.' or '\.\.' path segments"):
        parse_steam_account(text)


def test_dots_inside_a_query_or_a_name_are_not_segments() -> None:
    assert parse_steam_account(
        "https://steamcommunity.com/profiles/76561197961166729/?x=../.."
    ) == SteamAccountRef(steam_id64=76561197961166729)
