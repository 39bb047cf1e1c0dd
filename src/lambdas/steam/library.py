"""Stage 1: a Steam account (any pasted form) → the owned-games list → raw CSV in storage."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import structlog

from lambdas.clients.s3 import (
    Storage,
    raw_key,
    read_library_state,
    run_stamp,
    validate_user_id,
)
from lambdas.clients.steam import SteamClient
from lambdas.config import Settings
from lambdas.errors import PrivateProfileError, ProfileNotFoundError
from lambdas.models.csv_codec import encode_rows
from lambdas.models.events import EnrichmentStats, LibraryState, ReuseWindows
from lambdas.models.library_state import COMPARED_COLUMNS, current_inputs, fingerprint
from lambdas.models.rows import INT4_MAX, UINT32_MAX, RawGameRow
from lambdas.models.steam import OwnedGame, PlayerSummary, SteamAccountRef, parse_steam_account

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class SteamLibrary:
    steam_id64: int
    profile: PlayerSummary
    games: list[OwnedGame]


@dataclass(frozen=True, slots=True)
class SteamImportResult:
    location: str
    game_count: int
    steam_id64: int
    persona_name: str | None
    steam_requests: int = 0
    #: The committed state says this library has nothing to do: no raw CSV was stored, and
    #: `location` is the committed one.
    unchanged: bool = False
    enriched_location: str | None = None
    previous_stats: EnrichmentStats | None = None


async def fetch_library(steam: SteamClient, ref: SteamAccountRef) -> SteamLibrary:
    """Resolve the account and fetch its games, telling private from missing from empty."""
    steam_id64 = ref.steam_id64
    if steam_id64 is None:
        assert ref.vanity is not None
        steam_id64 = await steam.resolve_vanity(ref.vanity)
    profile = (await steam.get_player_summaries([steam_id64])).get(steam_id64)
    if profile is None:
        raise ProfileNotFoundError(f"no Steam account has the id {steam_id64}")
    if not profile.is_public:
        raise PrivateProfileError(
            f"the Steam profile {steam_id64} is private; set Profile and Game details to Public "
            "in Steam's privacy settings, then import again"
        )
    owned = await steam.get_owned_games(steam_id64)
    if owned.game_count is None and owned.games is None:
        raise PrivateProfileError(
            f"the game details of Steam profile {steam_id64} are private; set Game details to "
            "Public in Steam's privacy settings, then import again"
        )
    games = sorted(_unique_by_appid(owned.games or []), key=lambda game: game.appid)
    return SteamLibrary(steam_id64=steam_id64, profile=profile, games=games)


def _unique_by_appid(games: list[OwnedGame]) -> list[OwnedGame]:
    return list({game.appid: game for game in games if 0 < game.appid <= UINT32_MAX}.values())


def to_raw_row(game: OwnedGame) -> RawGameRow:
    """The stored row of one owned app; Steam's text loses NUL characters (no CSV reader or
    PostgreSQL text column takes them) and its numbers are clamped to what the columns hold."""
    return RawGameRow(**_raw_values(game))


def _raw_values(game: OwnedGame) -> dict[str, Any]:
    """`to_raw_row`'s values, before the row model checks them (they are in range by now)."""
    return dict(
        appid=game.appid,
        name=game.name.replace("\x00", ""),
        playtime_forever=_minutes(game.playtime_forever),
        playtime_2weeks=_minutes(game.playtime_2weeks),
        playtime_windows_forever=_minutes(game.playtime_windows_forever),
        playtime_mac_forever=_minutes(game.playtime_mac_forever),
        playtime_linux_forever=_minutes(game.playtime_linux_forever),
        playtime_deck_forever=_minutes(game.playtime_deck_forever),
        playtime_disconnected=_minutes(game.playtime_disconnected),
        rtime_last_played=game.rtime_last_played if 0 < game.rtime_last_played <= UINT32_MAX else 0,
        img_icon_url=game.img_icon_url.replace("\x00", ""),
        has_community_visible_stats=game.has_community_visible_stats,
    )


def _library_key(games: list[OwnedGame]) -> str:
    """`library_fingerprint` of the rows `to_raw_row` makes of `games`, without making them."""
    return fingerprint(
        tuple(str(values[column]) for column in COMPARED_COLUMNS)
        for values in map(_raw_values, games)
    )


def reuse_windows(settings: Settings) -> ReuseWindows:
    """The settings' reuse windows (stage 2 applies the same ones)."""
    return ReuseWindows.of(
        reuse_days=settings.enrichment_reuse_days,
        recheck_hours=settings.unmatched_recheck_hours,
        type_ttl_days=settings.steam_type_ttl_days,
    )


def _unchanged(
    state: LibraryState, games: list[OwnedGame], settings: Settings, now: datetime
) -> bool:
    inputs = current_inputs(_library_key(games), mode=settings.import_mode)
    return state.unchanged_for(inputs, now, reuse_windows(settings))


def _minutes(value: int) -> int:
    return min(max(value, 0), INT4_MAX)


async def import_steam_library(
    *,
    user_id: str,
    account: str,
    settings: Settings,
    storage: Storage,
    now: datetime,
    import_id: str,
    transport: httpx.AsyncBaseTransport | None = None,
    refresh_metadata: bool = False,
) -> SteamImportResult:
    """Run stage 1 and store the raw CSV; an empty public library stores a header-only CSV.

    When the user's committed state (`read_library_state`) has today's library and inputs and
    no reuse window has passed, nothing is stored and the result says `unchanged` (a refresh
    never is). Input is checked before anything else, so a bad user id or Steam id never
    reaches the network.
    """
    validate_user_id(user_id)
    ref = parse_steam_account(account)
    started = time.perf_counter()
    async with SteamClient.from_settings(settings, transport=transport) as steam:
        library = await fetch_library(steam, ref)
    steam_requests = steam.requests_sent
    state = None if refresh_metadata else read_library_state(storage, user_id)
    if state is not None and _unchanged(state, library.games, settings, now):
        log.info(
            "stage.finished",
            stage="steam_import",
            steam_id64=str(library.steam_id64),
            game_count=len(library.games),
            steam_requests=steam_requests,
            unchanged=True,
            duration_s=round(time.perf_counter() - started, 3),
        )
        return SteamImportResult(
            location=state.raw_location or state.enriched_location,
            game_count=len(library.games),
            steam_id64=library.steam_id64,
            persona_name=library.profile.personaname,
            steam_requests=steam_requests,
            unchanged=True,
            enriched_location=state.enriched_location,
            previous_stats=state.reused_stats(),
        )
    rows = [to_raw_row(game) for game in library.games]
    if not rows:
        log.warning(
            "steam.empty_library",
            steam_id64=str(library.steam_id64),
            hint="the profile is public but owns no games",
        )
    location = storage.put(
        raw_key(user_id, run_stamp(now, import_id)), encode_rows(rows, RawGameRow)
    )
    log.info(
        "stage.finished",
        stage="steam_import",
        steam_id64=str(library.steam_id64),
        game_count=len(rows),
        steam_requests=steam_requests,
        location=location,
        duration_s=round(time.perf_counter() - started, 3),
    )
    return SteamImportResult(
        location=location,
        game_count=len(rows),
        steam_id64=library.steam_id64,
        persona_name=library.profile.personaname,
        steam_requests=steam_requests,
    )
