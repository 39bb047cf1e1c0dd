"""Steam account references (every form a person pastes) and Steam Web API payloads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lambdas.errors import InvalidSteamIdError
from lambdas.models.text import clean_steam_text, storable_text

STEAM_ID64_BASE = 76561197960265728  # universe 1, type individual, instance 1, account 0
MAX_ACCOUNT_ID = 2**32 - 1
STEAM_ID64_MIN = STEAM_ID64_BASE + 1
STEAM_ID64_MAX = STEAM_ID64_BASE + MAX_ACCOUNT_ID
_MAX_INPUT_LENGTH = 256

_STEAM2 = re.compile(r"STEAM_([0-5]):([01]):(\d{1,10})", re.IGNORECASE)
_STEAM3 = re.compile(r"\[?U:1:(\d{1,10})\]?", re.IGNORECASE)
# Custom URL names: letters, digits, `_` and `-` inside a profile URL. Typed bare, a name must do
# without hyphens: "not-an-id" or "my-steam" pasted on its own is far likelier a placeholder or a
# typo than a custom URL, and must fail fast instead of costing a lookup. Hyphenated custom URLs
# work in their URL form (steamcommunity.com/id/my-name).
_VANITY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{1,31}")
_BARE_VANITY = re.compile(r"[A-Za-z0-9_]{2,32}")
_PROFILE_URL = re.compile(
    r"(?:https?://)?(?:www\.)?steamcommunity\.com/(profiles|id)/([^/?#]+)(?:[/?#].*)?",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_SIGNED_NUMBER = re.compile(r"[+-]\d+")


@dataclass(frozen=True, slots=True)
class SteamAccountRef:
    """A parsed account: a SteamID64 ready to use, or a vanity name still to resolve."""

    steam_id64: int | None = None
    vanity: str | None = None


def _from_account_id(account_id: int, original: str) -> int:
    if not 1 <= account_id <= MAX_ACCOUNT_ID:
        raise InvalidSteamIdError(f"{_shown(original)} is outside the range of Steam accounts")
    return STEAM_ID64_BASE + account_id


def _shown(text: str) -> str:
    """The input as quoted in messages: bounded, so a 10k-character paste stays readable."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def parse_steam_id64(text: str) -> int:
    """A 17-digit individual-account SteamID64, canonicalised to instance 1."""
    if not (text.isascii() and _DIGITS.fullmatch(text)) or len(text) > 20:
        raise InvalidSteamIdError(f"{_shown(text)} is not a SteamID64")
    value = int(text)
    account_id = value & 0xFFFFFFFF
    universe, account_type = value >> 56, (value >> 52) & 0xF
    if universe != 1 or account_type != 1 or value > 2**64 - 1:
        raise InvalidSteamIdError(
            f"{_shown(text)} is not an individual Steam account (SteamID64s look like "
            f"{STEAM_ID64_MIN})"
        )
    return _from_account_id(account_id, text)


def _refuse_dot_segments(url: str) -> None:
    """A profile URL with `.` or `..` path segments (plain or %-encoded): a browser resolves them
    to another page (`/profiles/7656…/../../id/someone` opens `/id/someone`), so which account it
    names is ambiguous; refused rather than guessed."""
    path = re.split(r"[?#]", url, maxsplit=1)[0]
    if any(unquote(segment) in {".", ".."} for segment in path.split("/")):
        raise InvalidSteamIdError(
            f"{_shown(url)} has '.' or '..' path segments; paste the profile URL as the "
            "browser shows it"
        )


def parse_steam_account(text: str) -> SteamAccountRef:
    """Parse what a person pastes: SteamID64, STEAM_X:Y:Z, [U:1:N], a profile URL or a vanity.

    Raises InvalidSteamIdError (never touching the network) for anything else.
    """
    candidate = text.strip()
    if not candidate:
        raise InvalidSteamIdError("the Steam account is empty")
    if len(candidate) > _MAX_INPUT_LENGTH:
        raise InvalidSteamIdError(
            f"the Steam account is {len(candidate)} characters long; expected a SteamID64, "
            "a profile URL or a custom URL name"
        )
    if not candidate.isascii() or not candidate.isprintable():
        raise InvalidSteamIdError(f"{_shown(candidate)} contains characters no Steam id uses")
    if _DIGITS.fullmatch(candidate) and len(candidate) >= 16:
        return SteamAccountRef(steam_id64=parse_steam_id64(candidate))
    if _SIGNED_NUMBER.fullmatch(candidate):
        raise InvalidSteamIdError(f"{_shown(candidate)} is not a Steam id")
    if match := _STEAM2.fullmatch(candidate):
        account_id = int(match.group(3)) * 2 + int(match.group(2))
        return SteamAccountRef(steam_id64=_from_account_id(account_id, candidate))
    if match := _STEAM3.fullmatch(candidate):
        return SteamAccountRef(steam_id64=_from_account_id(int(match.group(1)), candidate))
    if match := _PROFILE_URL.fullmatch(candidate):
        _refuse_dot_segments(candidate)
        kind, value = match.group(1).lower(), match.group(2)
        if kind == "profiles":
            if steam3 := _STEAM3.fullmatch(value):
                return SteamAccountRef(steam_id64=_from_account_id(int(steam3.group(1)), candidate))
            return SteamAccountRef(steam_id64=parse_steam_id64(value))
        if _VANITY.fullmatch(value):
            return SteamAccountRef(vanity=value)
        raise InvalidSteamIdError(f"{_shown(value)} is not a valid Steam custom URL name")
    if _BARE_VANITY.fullmatch(candidate):
        return SteamAccountRef(vanity=candidate)
    if _VANITY.fullmatch(candidate):
        raise InvalidSteamIdError(
            f"{_shown(candidate)} is not a Steam id; if it is a custom URL name, paste the whole "
            f"profile URL: https://steamcommunity.com/id/{candidate}"
        )
    raise InvalidSteamIdError(
        f"{_shown(candidate)} is not a SteamID64, STEAM_X:Y:Z, [U:1:N], "
        "steamcommunity.com profile URL or custom URL name"
    )


class _SteamPayload(BaseModel):
    """Upstream payloads: tolerate fields Steam adds or omits."""

    model_config = ConfigDict(extra="ignore")


def _storable(value: Any) -> Any:
    """Steam's text as it enters: no NUL, no lone surrogate (escaped in JSON, they would reach
    the CSV writer or PostgreSQL); everything else verbatim."""
    return clean_steam_text(value) if isinstance(value, str) else value


class OwnedGame(_SteamPayload):
    """One owned app. Its text is checked for the whole answer at once (`OwnedGamesBody`), not
    per game: a per-field validator called 40,000 times for a 20,000-app library."""

    model_config = ConfigDict(cache_strings=False)  # see OwnedGamesResponse

    appid: int
    name: str = ""
    playtime_forever: int = 0
    playtime_2weeks: int = 0
    playtime_windows_forever: int = 0
    playtime_mac_forever: int = 0
    playtime_linux_forever: int = 0
    playtime_deck_forever: int = 0
    playtime_disconnected: int = 0
    rtime_last_played: int = 0
    img_icon_url: str = ""
    has_community_visible_stats: bool = False


class OwnedGamesBody(_SteamPayload):
    """`response` of GetOwnedGames; both fields absent means private or nonexistent."""

    model_config = ConfigDict(cache_strings=False)  # see OwnedGamesResponse

    game_count: int | None = None
    games: list[OwnedGame] | None = None

    @model_validator(mode="after")
    def _storable_text(self) -> Self:
        """Every game's name and icon as `_storable` makes them, checked on the joined text of
        the whole list: only an answer that holds NUL or a lone surrogate is cleaned game by
        game."""
        games = self.games
        if games and not storable_text(
            "".join([game.name for game in games] + [game.img_icon_url for game in games])
        ):
            self.games = [
                game.model_copy(
                    update={
                        "name": clean_steam_text(game.name),
                        "img_icon_url": clean_steam_text(game.img_icon_url),
                    }
                )
                for game in games
            ]
        return self


class OwnedGamesResponse(_SteamPayload):
    # The JSON is parsed under the outer model's config: names are mostly distinct, and
    # caching them costs more than it saves.
    model_config = ConfigDict(cache_strings=False)

    response: OwnedGamesBody = Field(default_factory=OwnedGamesBody)


class VanityBody(_SteamPayload):
    success: int
    steamid: str | None = None
    message: str | None = None


class VanityResponse(_SteamPayload):
    response: VanityBody


class PlayerSummary(_SteamPayload):
    steamid: str
    communityvisibilitystate: int = 1
    profilestate: int | None = None
    personaname: str | None = None
    profileurl: str | None = None
    avatarfull: str | None = None

    _clean = field_validator("personaname", mode="before")(_storable)

    @property
    def is_public(self) -> bool:
        return self.communityvisibilitystate == 3


class PlayersBody(_SteamPayload):
    players: list[PlayerSummary] = Field(default_factory=list)


class PlayerSummariesResponse(_SteamPayload):
    response: PlayersBody = Field(default_factory=PlayersBody)


class WishlistItem(_SteamPayload):
    """One entry of GetWishlist: no name (ask the store); `priority` is the user's own order."""

    appid: int
    priority: int = 0
    date_added: int = 0


class WishlistBody(_SteamPayload):
    """`response` of GetWishlist; no `items` means an empty or a private wishlist alike."""

    items: list[WishlistItem] | None = None


class WishlistResponse(_SteamPayload):
    response: WishlistBody = Field(default_factory=WishlistBody)
