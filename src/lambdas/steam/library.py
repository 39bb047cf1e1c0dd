"""Stage 1: a Steam account (any pasted form) → the owned-games list → raw CSV in storage."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import starmap
from operator import attrgetter, itemgetter
from typing import Any

import httpx
import pydantic_core
import structlog

from lambdas.clients.s3 import (
    Storage,
    raw_key,
    read_library_state,
    run_stamp,
    user_prefix,
    validate_user_id,
    wishlist_key_for,
)
from lambdas.clients.steam import SteamClient, owned_games_body
from lambdas.clients.steam_store import SteamStoreClient
from lambdas.collector import cyclic_gc_paused
from lambdas.config import Settings
from lambdas.errors import (
    LocationNotFoundError,
    MalformedCsvError,
    PipelineError,
    PrivateProfileError,
    ProfileNotFoundError,
)
from lambdas.models.csv_codec import RowEncoder, decode_rows, encode_rows, header_of
from lambdas.models.events import EnrichmentStats, LibraryState, ReuseWindows
from lambdas.models.library_state import (
    COMPARED_COLUMNS,
    current_inputs,
    fingerprint,
    fingerprint_of_joined,
    library_fingerprint,
    wishlist_input,
)
from lambdas.models.rows import INT4_MAX, INT4_MIN, UINT32_MAX, RawGameRow, WishlistRow
from lambdas.models.steam import (
    OwnedGame,
    PlayerSummary,
    SteamAccountRef,
    WishlistBody,
    WishlistItem,
    parse_steam_account,
)
from lambdas.models.text import clean_steam_text, storable_text

log = structlog.get_logger()


_WISHLIST_SUFFIX = "-raw-wishlist.csv"


class OwnedApps:
    """A public profile's owned apps, one per app id, in app id order, as the raw CSV's values.

    Read from GetOwnedGames' answer (`read`), each game's values are taken straight from the
    JSON when they are exactly what the models would hold and the raw CSV would store (every
    stored field present, or absent where Steam leaves it out; numbers JSON integers within
    their columns, text a string with nothing to clean, app ids in range and listed once):
    then no model is made per game, neither to tell an unchanged library nor to write its raw
    CSV. Any other answer is validated as models (`OwnedGame`), which coerce, default, drop,
    clean and refuse as they do, and its rows are made by `to_raw_row`.
    """

    __slots__ = ("_games", "_rows")

    def __init__(
        self,
        games: list[OwnedGame] | None = None,
        *,
        rows: list[tuple[Any, ...]] | None = None,
    ) -> None:
        #: The raw CSV's values, in RAW_COLUMNS' order, when they are the models' as stored.
        self._rows = rows
        #: Else the validated models.
        self._games = games if rows is None else None

    @classmethod
    def of(cls, games: list[OwnedGame]) -> OwnedApps:
        """The apps of validated games, as Steam listed them."""
        unique = sorted(_unique_by_appid(games), key=attrgetter("appid"))
        rows = list(map(_raw_of_game, unique))
        return cls(rows=rows) if _as_stored(list(zip(*rows, strict=True))) else cls(unique)

    @classmethod
    def read(cls, answer: bytes, steam_id64: int) -> OwnedApps:
        """The apps of a GetOwnedGames answer; PRIVATE_PROFILE when it lists none, not even 0."""
        rows = _rows_in_answer(answer)
        if rows is None:
            return cls.of(_validated_games(answer, steam_id64))
        return cls(rows=rows)

    def __len__(self) -> int:
        return len(self._rows if self._rows is not None else self._games or ())

    def appids(self) -> list[int]:
        """The app ids, in order."""
        if self._rows is not None:
            return [cells[0] for cells in self._rows]
        return [game.appid for game in self._games or ()]

    def names(self, apps: Collection[int]) -> dict[int, str]:
        """app id → name of the owned apps among `apps`."""
        if self._rows is not None:
            return {cells[0]: cells[_NAME_AT] for cells in self._rows if cells[0] in apps}
        return {game.appid: game.name for game in self._games or () if game.appid in apps}

    def fingerprint(self) -> str:
        """`library_fingerprint` of the raw CSV's rows."""
        if self._rows is not None:
            # The cells are the values as sent: one string of them a game.
            joined = list(starmap(_JOINED.format, self._rows))
            key = fingerprint_of_joined(joined, len(COMPARED_COLUMNS))
            if key is not None:
                return key
            return fingerprint(tuple(map(str, _compared_of_raw(row))) for row in self._rows)
        return library_fingerprint(map(to_raw_row, self._games or ()))

    def raw_csv(self) -> bytes:
        """The raw CSV of the apps."""
        if self._rows is None:
            return encode_rows(map(to_raw_row, self._games or ()), RawGameRow)
        encoder = RowEncoder(RawGameRow)
        encoder.values(self._rows)
        return encoder.data()


@dataclass(frozen=True, slots=True)
class SteamLibrary:
    steam_id64: int
    profile: PlayerSummary
    owned: OwnedApps


class WishlistOutcome(StrEnum):
    """What stage 1 got of the wishlist. Steam answers an empty and a private wishlist alike (no
    items): the profile's visibility says which it was."""

    IMPORTED = "imported"  # items found (some may be owned already)
    EMPTY = "empty"  # public profile, no items
    PRIVATE = "private"  # no items, and the profile is not public
    SKIPPED = "skipped"  # the call failed after its retries: the owned import goes on
    OFF = "off"  # IMPORT_WISHLIST=false (or --no-wishlist)


@dataclass(frozen=True, slots=True)
class WishlistFetch:
    outcome: WishlistOutcome
    rows: list[WishlistRow] = field(default_factory=list)
    reason: str | None = None
    #: Keyless Steam requests it took: GetWishlist, and GetItems for the apps' names.
    requests: int = 0


@dataclass(frozen=True, slots=True)
class SteamImportResult:
    location: str
    game_count: int
    steam_id64: int
    persona_name: str | None
    steam_requests: int = 0
    wishlist: WishlistFetch = field(default_factory=lambda: WishlistFetch(WishlistOutcome.OFF))
    #: The committed state says this library and its wishlist have nothing to do: no raw CSV
    #: was stored, and `location` is the committed one.
    unchanged: bool = False
    enriched_location: str | None = None
    previous_stats: EnrichmentStats | None = None


async def fetch_library(
    steam: SteamClient, ref: SteamAccountRef, *, include_free_sub: bool = False
) -> SteamLibrary:
    """Resolve the account and fetch its games, telling private from missing from empty."""
    steam_id64 = await _steam_id64(steam, ref)
    profile = await _public_summary(steam, steam_id64)
    owned = await _owned_games(steam, steam_id64, include_free_sub=include_free_sub)
    return SteamLibrary(steam_id64=steam_id64, profile=profile, owned=owned)


async def _steam_id64(steam: SteamClient, ref: SteamAccountRef) -> int:
    if ref.steam_id64 is not None:
        return ref.steam_id64
    assert ref.vanity is not None
    return await steam.resolve_vanity(ref.vanity)


async def _public_summary(steam: SteamClient, steam_id64: int) -> PlayerSummary:
    """The account's summary; PROFILE_NOT_FOUND or PRIVATE_PROFILE when it cannot be read."""
    profile = (await steam.get_player_summaries([steam_id64])).get(steam_id64)
    if profile is None:
        raise ProfileNotFoundError(f"no Steam account has the id {steam_id64}")
    if not profile.is_public:
        raise PrivateProfileError(
            f"the Steam profile {steam_id64} is private; set Profile and Game details to Public "
            "in Steam's privacy settings, then import again"
        )
    return profile


async def _owned_games(steam: SteamClient, steam_id64: int, *, include_free_sub: bool) -> OwnedApps:
    """The public profile's owned apps."""
    answer = await steam.get_owned_games_answer(steam_id64, include_free_sub=include_free_sub)
    return OwnedApps.read(answer, steam_id64)


def _validated_games(answer: bytes, steam_id64: int) -> list[OwnedGame]:
    """The games of a GetOwnedGames answer as models, as listed."""
    owned = owned_games_body(answer)
    if owned.game_count is None and owned.games is None:
        raise PrivateProfileError(
            f"the game details of Steam profile {steam_id64} are private; set Game details to "
            "Public in Steam's privacy settings, then import again"
        )
    return owned.games or []


async def fetch_library_and_wishlist(
    steam: SteamClient,
    ref: SteamAccountRef,
    *,
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
    known_names: Callable[[], dict[int, str]] = dict,
) -> tuple[SteamLibrary, WishlistFetch]:
    """`fetch_library` and `fetch_wishlist` (when IMPORT_WISHLIST) at once. The owned games and
    the wishlist are asked for beside the summary that says whether the profile is public: a
    private or missing profile answers them empty, and the summary's verdict is the one raised
    (their answers are then dropped unread). Once the profile is known to be public, the store
    is asked for the names of the wishlisted apps `known_names` (the previous wishlist's) does
    not hold, while the owned games still arrive. The answers cost about one round trip, not
    three."""
    steam_id64 = await _steam_id64(steam, ref)
    owned = asyncio.ensure_future(
        _owned_games(steam, steam_id64, include_free_sub=settings.steam_include_free_sub)
    )
    wish_answer = (
        asyncio.ensure_future(_ask_wishlist(steam, steam_id64))
        if settings.import_wishlist
        else None
    )
    try:
        profile = await _public_summary(steam, steam_id64)
    except BaseException:
        await _cancelled(owned)
        if wish_answer is not None:
            await _cancelled(wish_answer)
        raise
    async with AsyncExitStack() as clients:  # a store client is closed once all is in
        wished = (
            asyncio.ensure_future(
                _wishlist_and_names(
                    steam,
                    steam_id64,
                    settings=settings,
                    transport=transport,
                    known_names=known_names,
                    clients=clients,
                    answer=wish_answer,
                )
            )
            if wish_answer is not None
            else None
        )
        try:
            apps = await owned
        except BaseException:
            if wished is not None:  # the owned import failed: its wishlist is not wanted
                await _cancelled(wished)
            raise
        library = SteamLibrary(steam_id64=steam_id64, profile=profile, owned=apps)
        if wished is None:
            return library, WishlistFetch(WishlistOutcome.OFF)
        answer, names, store_calls = await wished
    return library, _wishlist_rows(answer, library, names, store_calls)


async def _cancelled(task: asyncio.Future[Any]) -> None:
    """Cancel `task` and wait for it to end (whatever it raises: its result is not wanted)."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def fetch_wishlist(
    steam: SteamClient,
    library: SteamLibrary,
    *,
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
    known_names: dict[int, str] | None = None,
) -> WishlistFetch:
    """The user's wishlist as rows, or why there is none; never raises for Steam's sake.

    An app the user owns too is kept, marked `owned`. Apps only wishlisted get their name from
    `known_names` (the user's previous wishlist), else from the store (GetItems, keyless, 100 ids
    a call); a store that does not answer leaves names empty, with a warning. A GetWishlist that
    fails after its retries (429, 5xx, an unreadable answer, …) is SKIPPED with its code and
    message.
    """
    async with AsyncExitStack() as clients:
        answer, names, store_calls = await _wishlist_and_names(
            steam,
            library.steam_id64,
            settings=settings,
            transport=transport,
            known_names=lambda: known_names or {},
            clients=clients,
            owned=frozenset(library.owned.appids()),
        )
    return _wishlist_rows(answer, library, names, store_calls)


@dataclass(frozen=True, slots=True)
class _WishlistAnswer:
    """GetWishlist's answer (None when the call failed: `failure` says why) and its requests."""

    body: WishlistBody | None
    requests: int
    failure: str | None = None
    code: str | None = None

    def items(self) -> list[WishlistItem]:
        """The wished apps, one per app id (in range), in Steam's order."""
        if self.body is None:
            return []
        return list(
            {
                item.appid: item for item in self.body.items or () if 0 < item.appid <= UINT32_MAX
            }.values()
        )


async def _wishlist_and_names(
    steam: SteamClient,
    steam_id64: int,
    *,
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None,
    known_names: Callable[[], dict[int, str]],
    clients: AsyncExitStack,
    owned: frozenset[int] = frozenset(),
    answer: Awaitable[_WishlistAnswer] | None = None,
) -> tuple[_WishlistAnswer, dict[int, str], int]:
    """GetWishlist's answer (`answer`, asked already, else asked now), the names of its apps
    (`known_names`, else the store's, asked for the apps neither names nor `owned` holds) and
    the GetItems calls that took."""
    answered = await (answer if answer is not None else _ask_wishlist(steam, steam_id64))
    if answered.body is None:
        log.warning("steam.wishlist_skipped", error_code=answered.code, error=answered.failure)
        return answered, {}, 0
    items = answered.items()
    if not items:
        return answered, {}, 0
    known = known_names()
    unnamed = [i.appid for i in items if i.appid not in owned and not known.get(i.appid)]
    names, store_calls = await _store_names(unnamed, settings, transport, clients)
    return answered, {**known, **names}, store_calls


async def _ask_wishlist(steam: SteamClient, steam_id64: int) -> _WishlistAnswer:
    """GetWishlist's answer, or why there is none (never raises for Steam's sake); the
    client's keyless requests are GetWishlist's alone, so their count is this call's."""
    before = steam.keyless_requests_sent
    try:
        body = await steam.get_wishlist(steam_id64)
    except PipelineError as exc:
        requests = steam.keyless_requests_sent - before
        return _WishlistAnswer(None, requests, f"{exc.code}: {exc.message}", exc.code)
    return _WishlistAnswer(body, steam.keyless_requests_sent - before)


def _wishlist_rows(
    answer: _WishlistAnswer, library: SteamLibrary, names: dict[int, str], store_calls: int
) -> WishlistFetch:
    """`fetch_wishlist`'s rows of GetWishlist's answer: an owned app has its library name."""
    requests = answer.requests + store_calls
    if answer.body is None:
        return WishlistFetch(WishlistOutcome.SKIPPED, reason=answer.failure, requests=requests)
    items = answer.items()
    if not items:
        outcome = WishlistOutcome.EMPTY if library.profile.is_public else WishlistOutcome.PRIVATE
        return WishlistFetch(outcome, requests=requests)
    owned = library.owned.names({item.appid for item in items})
    rows = [
        WishlistRow(
            appid=item.appid,
            name=owned.get(item.appid) or clean_steam_text(names.get(item.appid) or ""),
            priority=min(max(item.priority, INT4_MIN), INT4_MAX),
            date_added=item.date_added if 0 < item.date_added <= UINT32_MAX else 0,
            owned=item.appid in owned,
        )
        for item in sorted(items, key=lambda item: (item.priority, item.appid))
    ]
    return WishlistFetch(WishlistOutcome.IMPORTED, rows, requests=requests)


async def _store_names(
    app_ids: list[int],
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None,
    clients: AsyncExitStack,
) -> tuple[dict[int, str], int]:
    """The store's names of `app_ids` and the GetItems calls it took; none when it fails. Its
    client is closed with `clients` (once every answer of the fetch is in: a transport shared
    with a request still under way is not closed under it)."""
    if not app_ids:
        return {}, 0
    store = SteamStoreClient.from_settings(settings, transport=transport)
    try:
        await clients.enter_async_context(store)
        found = await store.get_app_types(app_ids)
    except PipelineError as exc:
        log.warning("steam.wishlist_names_missing", error_code=exc.code, error=exc.message)
        return {}, store.calls_sent
    return {app_id: t.name for app_id, t in found.items() if t.name}, store.calls_sent


def _previous_names(storage: Storage, user_id: str) -> dict[int, str]:
    """The names of the user's latest stored wishlist (an owned app's is its library name), so
    a re-import asks the store only about apps wishlisted since; none when there is no
    readable one."""
    stored = sorted(
        key for key in storage.list_keys(user_prefix(user_id)) if key.endswith(_WISHLIST_SUFFIX)
    )
    if not stored:
        return {}
    try:
        rows = decode_rows(
            storage.get(storage.location_of(stored[-1]), user_id=user_id),
            WishlistRow,
            what="previous wishlist CSV",
        )
    except (MalformedCsvError, LocationNotFoundError) as exc:
        log.warning("steam.previous_wishlist_unusable", key=stored[-1], error=exc.message)
        return {}
    return {row.appid: row.name for row in rows if row.name}


def _unique_by_appid(games: list[OwnedGame]) -> list[OwnedGame]:
    return list({game.appid: game for game in games if 0 < game.appid <= UINT32_MAX}.values())


def to_raw_row(game: OwnedGame) -> RawGameRow:
    """The stored row of one owned app; Steam's text loses NUL characters and lone surrogates
    (no CSV reader or PostgreSQL text column takes them) and its numbers are clamped to what
    the columns hold."""
    return RawGameRow(**_raw_values(game))


def _raw_values(game: OwnedGame) -> dict[str, Any]:
    """`to_raw_row`'s values, before the row model checks them (they are in range by now)."""
    return dict(
        appid=game.appid,
        name=clean_steam_text(game.name),
        playtime_forever=_minutes(game.playtime_forever),
        playtime_2weeks=_minutes(game.playtime_2weeks),
        playtime_windows_forever=_minutes(game.playtime_windows_forever),
        playtime_mac_forever=_minutes(game.playtime_mac_forever),
        playtime_linux_forever=_minutes(game.playtime_linux_forever),
        playtime_deck_forever=_minutes(game.playtime_deck_forever),
        playtime_disconnected=_minutes(game.playtime_disconnected),
        rtime_last_played=game.rtime_last_played if 0 < game.rtime_last_played <= UINT32_MAX else 0,
        img_icon_url=clean_steam_text(game.img_icon_url),
        has_community_visible_stats=game.has_community_visible_stats,
    )


#: The raw CSV's columns: the stored fields of an owned game, by the same names.
RAW_COLUMNS = header_of(RawGameRow)
assert set(RAW_COLUMNS) <= set(OwnedGame.model_fields)
_AT = {name: index for index, name in enumerate(RAW_COLUMNS)}
_NAME_AT = _AT["name"]
#: An owned game's raw values, in RAW_COLUMNS' order.
_raw_of_game = attrgetter(*RAW_COLUMNS)
#: The compared values among them, in COMPARED_COLUMNS' order.
_compared_of_raw = itemgetter(*(_AT[name] for name in COMPARED_COLUMNS))
#: A row's compared values as one string, joined as `fingerprint` joins cells.
_JOINED = "\x00".join(f"{{{_AT[name]}}}" for name in COMPARED_COLUMNS)
#: The raw values' types as the models hold them, column by column.
_KINDS = [
    bool
    if name == "has_community_visible_stats"
    else str
    if name in ("name", "img_icon_url")
    else int
    for name in RAW_COLUMNS
]
#: What GetOwnedGames leaves out of a game when it is zero or false (the reference's presence
#: rules), with the value the model then holds; every other stored field must be there.
_OPTIONAL = {"playtime_2weeks": 0, "playtime_disconnected": 0, "has_community_visible_stats": False}
#: A game object's raw values, in RAW_COLUMNS' order (KeyError when one is missing).
_raw_in_json = itemgetter(*RAW_COLUMNS)


def _library_key(games: list[OwnedGame]) -> str:
    """`library_fingerprint` of the rows `to_raw_row` makes of `games`, without making them."""
    return OwnedApps.of(games).fingerprint()


def _as_stored(columns: list[tuple[Any, ...]]) -> bool:
    """Whether `to_raw_row` keeps every value of these raw columns (RAW_COLUMNS' order) as it
    is: no number clamped, no text cleaned. The smallest and largest number of each column
    against its range, and the text joined."""
    if not columns:
        return True
    minutes = [columns[at] for name, at in _AT.items() if name.startswith("playtime_")]
    last, appids = columns[_AT["rtime_last_played"]], columns[_AT["appid"]]
    return (
        all(min(column) >= 0 and max(column) <= INT4_MAX for column in minutes)
        and 0 <= min(last) <= max(last) <= UINT32_MAX
        and 0 < min(appids) <= max(appids) <= UINT32_MAX
        and storable_text("".join(columns[_NAME_AT] + columns[_AT["img_icon_url"]]))
    )


def _rows_in_answer(answer: bytes) -> list[tuple[Any, ...]] | None:
    """The raw CSV's values of a GetOwnedGames answer, read straight from its JSON, in app id
    order; None unless they are exactly what the models hold and `to_raw_row` stores (see
    `OwnedApps`), which leaves the answer to the models."""
    try:
        # Keys cached (a few names repeated per game), values not (names are mostly distinct).
        games = pydantic_core.from_json(answer, cache_strings="keys")["response"]["games"]
        if type(games) is not list:
            return None
        # Steam's optional fields under each game's own: a missing required one is a KeyError.
        rows = list(map(_raw_in_json, map(_OPTIONAL.__or__, games)))
    except (ValueError, KeyError, TypeError):  # not JSON, not these objects
        return None
    if not rows:
        return rows
    columns = list(zip(*rows, strict=True))
    for kind, column in zip(_KINDS, columns, strict=True):
        if set(map(type, column)) != {kind}:
            return None
    appids = columns[_AT["appid"]]
    if len(set(appids)) != len(appids) or not _as_stored(columns):
        return None
    return sorted(rows)  # app ids are unique: the first values differ


def reuse_windows(settings: Settings) -> ReuseWindows:
    """The settings' reuse windows (stage 2 applies the same ones)."""
    return ReuseWindows.of(
        reuse_days=settings.enrichment_reuse_days,
        recheck_hours=settings.unmatched_recheck_hours,
        type_ttl_days=settings.steam_type_ttl_days,
    )


def _unchanged(
    state: LibraryState,
    library: SteamLibrary,
    wishlist: WishlistFetch,
    settings: Settings,
    now: datetime,
) -> bool:
    """Whether the library, the wishlist and the mode are as committed and nothing is due. A
    wishlist not fetched (skipped, off) counts as the committed one, never as an empty one."""
    inputs = current_inputs(
        library.owned.fingerprint(),
        mode=settings.import_mode,
        wishlist=wishlist_input(wishlist.outcome.value, wishlist.rows, state),
    )
    return state.unchanged_for(inputs, now, reuse_windows(settings))


def _minutes(value: int) -> int:
    return min(max(value, 0), INT4_MAX)


@cyclic_gc_paused
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

    When the user's committed state (`read_library_state`) has today's library, wishlist and
    inputs and no reuse window has passed, nothing is stored and the result says `unchanged`
    (a refresh never is). Input is checked before anything else, so a bad user id or Steam id never
    reaches the network.
    """
    validate_user_id(user_id)
    ref = parse_steam_account(account)
    started = time.perf_counter()
    state = None if refresh_metadata else read_library_state(storage, user_id)
    async with SteamClient.from_settings(settings, transport=transport) as steam:
        library, wishlist = await fetch_library_and_wishlist(
            steam,
            ref,
            settings=settings,
            transport=transport,
            known_names=lambda: _previous_names(storage, user_id),
        )
    steam_requests = steam.requests_sent
    if state is not None and _unchanged(state, library, wishlist, settings, now):
        log.info(
            "stage.finished",
            stage="steam_import",
            steam_id64=str(library.steam_id64),
            game_count=len(library.owned),
            steam_requests=steam_requests,
            wishlist=wishlist.outcome.value,
            unchanged=True,
            duration_s=round(time.perf_counter() - started, 3),
        )
        return SteamImportResult(
            location=state.raw_location or state.enriched_location,
            game_count=len(library.owned),
            steam_id64=library.steam_id64,
            persona_name=library.profile.personaname,
            steam_requests=steam_requests,
            wishlist=wishlist,
            unchanged=True,
            enriched_location=state.enriched_location,
            previous_stats=state.reused_stats(),
        )
    game_count = len(library.owned)
    if not game_count:
        log.warning(
            "steam.empty_library",
            steam_id64=str(library.steam_id64),
            hint="the profile is public but owns no games",
        )
    key = raw_key(user_id, run_stamp(now, import_id))
    if wishlist.rows:  # first, so a raw CSV stored means its wishlist is stored too
        storage.put(str(wishlist_key_for(key)), encode_rows(wishlist.rows, WishlistRow))
    location = storage.put(key, library.owned.raw_csv())
    log.info(
        "stage.finished",
        stage="steam_import",
        steam_id64=str(library.steam_id64),
        game_count=game_count,
        steam_requests=steam_requests,
        wishlist=wishlist.outcome.value,
        wishlist_items=len(wishlist.rows),
        location=location,
        duration_s=round(time.perf_counter() - started, 3),
    )
    return SteamImportResult(
        location=location,
        game_count=game_count,
        steam_id64=library.steam_id64,
        persona_name=library.profile.personaname,
        steam_requests=steam_requests,
        wishlist=wishlist,
    )
