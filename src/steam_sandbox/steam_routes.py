"""Steam Web API routes: GetOwnedGames, ResolveVanityURL, GetPlayerSummaries and the store's
keyless GetItems."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from steam_sandbox.gate import inject_faults, steam_limits
from steam_sandbox.models import OwnedGame, SandboxUser, SteamApp
from steam_sandbox.responses import INVALID_KEY_TEXT, steam_html, steam_json, steam_json_bytes
from steam_sandbox.state import SandboxState

MAX_SUMMARY_IDS: Final = 100
KEYLESS: Final = "(keyless store calls)"
_APPIDS_FILTER = re.compile(r"^appids_filter\[(\d+)\]$")
_UINT64_MAX: Final = 2**64 - 1
_TRUE: Final = frozenset({"1", "true"})
_FALSE: Final = frozenset({"0", "false", ""})

Args = dict[str, Any]
Handler = Callable[[Args], Response]


class _BadRequest(Exception):
    """A request Steam answers with 400 HTML."""


def steam_routes(state: SandboxState) -> list[Route]:
    """The Steam routes (both version spellings) bound to ``state``."""

    def endpoint(name: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            response = await _guarded(state, request, handler)
            state.stats.request("steam", name, response.status_code)
            return response

        return run

    cache: dict[tuple[object, ...], bytes] = {}
    owned = endpoint("GetOwnedGames", lambda a: _owned_games(state, a, cache))
    vanity = endpoint("ResolveVanityURL", lambda a: _resolve_vanity(state, a))
    summaries = endpoint("GetPlayerSummaries", lambda a: _player_summaries(state, a))

    async def store_items(request: Request) -> Response:
        response = await _store_guarded(state, request)
        state.stats.request("steam", "GetItems", response.status_code)
        return response

    paths = (
        ("/IStoreBrowseService/GetItems/v1/", store_items),
        ("/IPlayerService/GetOwnedGames/v1/", owned),
        ("/IPlayerService/GetOwnedGames/v0001/", owned),
        ("/ISteamUser/ResolveVanityURL/v1/", vanity),
        ("/ISteamUser/ResolveVanityURL/v0001/", vanity),
        ("/ISteamUser/GetPlayerSummaries/v2/", summaries),
        ("/ISteamUser/GetPlayerSummaries/v0002/", summaries),
    )
    return [
        Route(variant, handler, methods=["GET", "POST"])
        for path, handler in paths
        for variant in (path, path.rstrip("/"))
    ]


async def _guarded(state: SandboxState, request: Request, handler: Handler) -> Response:
    knobs = state.knobs.steam
    key = request.query_params.get("key")
    if not key:
        status = knobs.missing_key_status
        message = "Required parameter 'key' is missing" if status == 400 else INVALID_KEY_TEXT
        return steam_html(status, message)
    if key != state.credentials.steam_api_key:
        return steam_html(403, INVALID_KEY_TEXT)
    limited = steam_limits(state, key)
    if limited is not None:
        return limited
    fault = await inject_faults(state, "steam")
    if fault is not None:
        return fault
    try:
        return handler(_arguments(request))
    except _BadRequest as exc:
        return steam_html(400, str(exc))


async def _store_guarded(state: SandboxState, request: Request) -> Response:
    """GetItems needs no key (one sent is ignored); the keyless throttle and faults still apply."""
    limited = steam_limits(state, KEYLESS)
    if limited is not None:
        return limited
    fault = await inject_faults(state, "steam")
    if fault is not None:
        return fault
    try:
        return _store_items(state, _arguments(request))
    except _BadRequest as exc:
        return steam_html(400, str(exc))


def _store_items(state: SandboxState, args: Args) -> Response:
    ids = args.get("ids")
    if not isinstance(ids, list) or not ids:
        raise _BadRequest("Required parameter 'ids' is missing")
    limit = state.knobs.steam.store_max_ids
    if len(ids) > limit:
        raise _BadRequest(f"Too many ids: at most {limit} per call")
    tag_count = _tag_count(args.get("data_request"))
    items = []
    for entry in ids:
        appid = entry.get("appid") if isinstance(entry, dict) else None
        if not isinstance(appid, int) or isinstance(appid, bool):
            items.append({"item_type": -1, "success": 8})
            continue
        items.append(_store_item(state.catalogue.apps.get(appid), appid, tag_count))
    # The store promises no order: answer in reverse, so clients must match items by id.
    return steam_json({"response": {"store_items": items[::-1]}})


def _tag_count(data_request: object) -> int:
    """How many top user tags the request asks for (`include_tag_count`; none by default)."""
    count = data_request.get("include_tag_count") if isinstance(data_request, dict) else None
    if count is None:
        return 0
    if not isinstance(count, int) or isinstance(count, bool):
        raise _BadRequest("Invalid value for parameter 'include_tag_count'")
    return max(count, 0)


def _store_item(app: SteamApp | None, appid: int, tag_count: int = 0) -> dict[str, Any]:
    if app is None or app.store_type is None:
        return {"item_type": 0, "id": appid, "success": 2}
    item: dict[str, Any] = {
        "item_type": 0,
        "id": appid,
        "success": 1,
        "visible": True,
        "name": app.name,
        "appid": appid,
    }
    if app.store_type:  # the proto default, 0 (game), is omitted from JSON
        item["type"] = app.store_type
    if app.store_free:  # false, the default, is omitted
        item["is_free"] = True
    if app.store_players or app.store_features:  # categories come without a flag
        categories: dict[str, list[int]] = {}
        if app.store_players:
            categories["supported_player_categoryids"] = list(app.store_players)
        if app.store_features:
            categories["feature_categoryids"] = list(app.store_features)
        item["categories"] = categories
    if app.parent_appid is not None:
        item["related_items"] = {"parent_appid": app.parent_appid}
    if tag_count and app.store_tags:  # heaviest first, weights falling
        tags = app.store_tags[:tag_count]
        item["tags"] = [
            {"tagid": tagid, "weight": 100 * (len(tags) - rank)} for rank, tagid in enumerate(tags)
        ]
    return item


def _arguments(request: Request) -> Args:
    args: Args = dict(request.query_params)
    raw = args.pop("input_json", None)
    if raw is not None:
        try:
            decoded = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _BadRequest("Failed to parse input_json") from exc
        if not isinstance(decoded, dict):
            raise _BadRequest("Failed to parse input_json")
        args.update(decoded)
    indexed = sorted(
        (int(m.group(1)), value)
        for name, value in request.query_params.multi_items()
        if (m := _APPIDS_FILTER.match(name))
    )
    if indexed and "appids_filter" not in args:
        args["appids_filter"] = [value for _, value in indexed]
    return args


def _flag(args: Args, name: str, default: bool) -> bool:
    value = args.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _BadRequest(f"Invalid value for parameter '{name}'")


def _steamid(args: Args, name: str = "steamid") -> int | None:
    """The parsed id; None when it is not a uint64 (malformed)."""
    value = args.get(name)
    if value is None or value == "":
        raise _BadRequest(f"Required parameter '{name}' is missing")
    text = str(value).strip()
    if not text.isdigit() or int(text) > _UINT64_MAX:
        return None
    return int(text)


def _owned_games(
    state: SandboxState, args: Args, cache: dict[tuple[object, ...], bytes]
) -> Response:
    knobs = state.knobs.steam
    steamid = _steamid(args)
    if steamid is None:
        if knobs.malformed_steamid_status == 400:
            return steam_html(400, "Invalid parameter 'steamid'")
        return steam_json({"response": {}})
    user = state.libraries.user(str(steamid))
    if user is None or user.visibility != 3 or not user.games_public:
        return steam_json({"response": {}})
    appinfo = _flag(args, "include_appinfo", False)
    extended = appinfo and _flag(args, "include_extended_appinfo", False)
    played_free = _flag(args, "include_played_free_games", False)
    free_sub = _flag(args, "include_free_sub", False)
    skip_unvetted = _flag(args, "skip_unvetted_apps", True)
    wanted = _appids(args.get("appids_filter"))
    key = (
        user,  # the registered user, not only its id: `Libraries.add` may give it new games
        appinfo,
        extended,
        played_free,
        free_sub,
        skip_unvetted,
        wanted,
        knobs.empty_library_body,
    )
    cached = cache.get(key)
    if cached is not None:
        return steam_json_bytes(cached)
    games = []
    for owned in state.libraries.library(user):
        app = owned.app
        if (
            (wanted is not None and app.appid not in wanted)
            or (app.unvetted and skip_unvetted)
            or (app.free_sub and not free_sub)
            or (app.free_to_play and not (played_free and owned.playtime_forever > 0))
        ):
            continue
        games.append(_game(owned, appinfo=appinfo, extended=extended))
    if not games:
        body = {
            "game_count_zero": {"game_count": 0},
            "empty_response": {},
            "empty_games_list": {"game_count": 0, "games": []},
        }[knobs.empty_library_body]
        response = steam_json({"response": body})
    else:
        response = steam_json({"response": {"game_count": len(games), "games": games}})
    if wanted is None:
        cache[key] = bytes(response.body)
    return response


def _appids(value: Any) -> frozenset[int] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    try:
        found = frozenset(int(item) for item in items)
    except (TypeError, ValueError) as exc:
        raise _BadRequest("Invalid value for parameter 'appids_filter'") from exc
    return found or None


def _game(owned: OwnedGame, *, appinfo: bool, extended: bool) -> dict[str, Any]:
    app = owned.app
    game: dict[str, Any] = {"appid": app.appid}
    if appinfo:
        game["name"] = app.name
    if owned.playtime_2weeks > 0:
        game["playtime_2weeks"] = owned.playtime_2weeks
    game["playtime_forever"] = owned.playtime_forever
    if appinfo:
        game["img_icon_url"] = app.icon_hash
        if app.has_stats:
            game["has_community_visible_stats"] = True
    game["playtime_windows_forever"] = owned.playtime_windows
    game["playtime_mac_forever"] = owned.playtime_mac
    game["playtime_linux_forever"] = owned.playtime_linux
    game["playtime_deck_forever"] = owned.playtime_deck
    game["rtime_last_played"] = owned.rtime_last_played
    if extended:
        game["capsule_filename"] = "library_600x900.jpg"
        if app.name.startswith("The "):
            game["sort_as"] = app.name[4:].lower()
        game["has_workshop"] = app.has_workshop
        game["has_market"] = app.has_market
        game["has_dlc"] = app.has_dlc
        if app.has_leaderboards:
            game["has_leaderboards"] = True
    if appinfo and app.content_descriptors:
        game["content_descriptorids"] = list(app.content_descriptors)
    game["playtime_disconnected"] = owned.playtime_disconnected
    return game


def _resolve_vanity(state: SandboxState, args: Args) -> Response:
    vanity = str(args.get("vanityurl") or "").strip()
    if not vanity:
        raise _BadRequest("Required parameter 'vanityurl' is missing")
    url_type = str(args.get("url_type", "1")).strip()
    user = state.libraries.resolve_vanity(vanity) if url_type == "1" else None
    if user is None:
        return steam_json({"response": {"success": 42, "message": "No match"}})
    return steam_json({"response": {"steamid": user.steamid64, "success": 1}})


def _player_summaries(state: SandboxState, args: Args) -> Response:
    raw = str(args.get("steamids") or "").strip()
    if not raw:
        raise _BadRequest("Required parameter 'steamids' is missing")
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > MAX_SUMMARY_IDS:
        raise _BadRequest(f"Too many steamids: at most {MAX_SUMMARY_IDS} per call")
    players = []
    seen: set[str] = set()
    for steamid in ids:
        user = state.libraries.user(steamid)
        if user is not None and steamid not in seen:
            seen.add(steamid)
            players.append(_player(user))
    return steam_json({"response": {"players": players}})


def _player(user: SandboxUser) -> dict[str, Any]:
    avatar = hashlib.sha1(user.steamid64.encode(), usedforsecurity=False).hexdigest()
    base = f"https://avatars.steamstatic.com/{avatar}"
    player: dict[str, Any] = {
        "steamid": user.steamid64,
        "communityvisibilitystate": user.visibility,
        "profilestate": 1,
        "personaname": user.persona_name,
        "profileurl": user.profile_url,
        "avatar": f"{base}.jpg",
        "avatarmedium": f"{base}_medium.jpg",
        "avatarfull": f"{base}_full.jpg",
        "avatarhash": avatar,
        "personastate": 0,
    }
    if user.visibility == 3:
        player.update(
            commentpermission=1,
            primaryclanid="103582791429521408",
            timecreated=1_300_000_000 + user.accountid % 100_000_000,
            personastateflags=0,
            loccountrycode="SE",
        )
    return player
