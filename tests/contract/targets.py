"""The two targets of the contract suite: the emulator (always) and the real services (on demand).

A target names where each upstream lives, the credentials to use there and the inputs whose
answers are known in kind (a public library, a custom URL, a hidden library, well-known apps).
Every request a test sends goes through `ContractTransport`, which counts it per service and
holds IGDB to its 4 requests per second.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
from dotenv import dotenv_values

from lambdas.clients.rate_limit import RateLimiter
from lambdas.models.steam import STEAM_ID64_MAX, parse_steam_id64
from steam_sandbox import AppKind, MatchSource, MatchStatus, Sandbox

LIVE_VARIABLES: Final = ("STEAM_API_KEY", "IGDB_CLIENT_ID", "IGDB_CLIENT_SECRET", "LIVE_STEAM_ID")
ENV_FILE: Final = ".env.integration"

# The real services' well-known inputs. Valve's own account and custom URL (Steam's docs use it);
# the largest individual SteamID64, whose account id no one has been given.
LIVE_VANITY: Final = "gabelogannewell"
LIVE_VANITY_STEAM_ID: Final = "76561197960287930"
NONEXISTENT_STEAM_ID: Final = str(STEAM_ID64_MAX)
# Longer than the 32 characters custom URLs are believed to allow: no one can have it.
UNKNOWN_VANITY: Final = "steam_import_contract_no_such_profile_0"
# Portal 2, Counter-Strike 2, Team Fortress 2, Dota 2: IGDB maps each of them to a game.
LIVE_IGDB_APP_IDS: Final = (620, 730, 440, 570)
# Store types: Portal 2 (game), Euro Truck Simulator 2 - Going East! (DLC), Terraria: Official
# Soundtrack (music), Counter-Strike 2 Dedicated Server (tool); 1 is no app at all.
LIVE_STORE_APPS: Final = {"game": 620, "dlc": 227310, "soundtrack": 409210, "server": 740}
UNKNOWN_APP_ID: Final = 1
# An app id no library owns: a filter on it asks for a public library's empty answer.
UNOWNED_APP_ID: Final = 4_294_967_295


@dataclass
class Traffic:
    """Requests sent per service in this session, and the limiter IGDB's requests wait on."""

    igdb_prefix: str
    twitch_prefix: str
    counts: Counter[str] = field(default_factory=Counter)
    igdb_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(per_second=4))
    token_answer: tuple[int, Any] | None = field(default=None, repr=False)

    def service(self, url: httpx.URL) -> str:
        text = str(url)
        if text.startswith(self.igdb_prefix):
            return "igdb"
        if text.startswith(self.twitch_prefix):
            return "twitch"
        return "steam"

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class ContractTransport(httpx.AsyncBaseTransport):
    """The real network transport, counting every request and pacing IGDB's."""

    def __init__(self, traffic: Traffic) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._traffic = traffic

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        service = self._traffic.service(request.url)
        self._traffic.counts[service] += 1
        if service != "igdb":
            return await self._inner.handle_async_request(request)
        async with self._traffic.igdb_limiter.slot():
            return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(frozen=True)
class StoreApps:
    """One app of each kind whose store type the pipeline relies on, and one that is no app."""

    game: int
    dlc: int
    soundtrack: int
    server: int
    unknown: int


@dataclass(frozen=True)
class Target:
    """Where the upstreams are, how to sign in, and inputs whose answers are known in kind."""

    name: str
    steam_base_url: str
    igdb_base_url: str
    twitch_token_url: str
    library_steam_id: str  # a public profile with public game details and at least one game
    vanity: str
    vanity_steam_id: str
    hidden_steam_ids: tuple[str, ...]  # libraries Steam will not show: private, nonexistent
    empty_library: tuple[str, Mapping[str, str]]  # an id and parameters for an empty answer
    igdb_app_ids: tuple[int, ...]  # apps IGDB maps to games through external_games
    store_apps: StoreApps
    traffic: Traffic
    steam_api_key: str = field(repr=False)
    igdb_client_id: str = field(repr=False)
    igdb_client_secret: str = field(repr=False)
    nonexistent_steam_id: str = NONEXISTENT_STEAM_ID
    unknown_vanity: str = UNKNOWN_VANITY

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        """A raw client whose requests are counted (and IGDB's paced)."""
        return httpx.AsyncClient(transport=self.transport(), timeout=30.0, **kwargs)

    def transport(self) -> ContractTransport:
        return ContractTransport(self.traffic)


def emulator_target(sandbox: Sandbox) -> Target:
    """The emulator's users and catalogue standing in for the real services' inputs."""
    users = sandbox.users
    # Plain games IGDB maps by app id to one main entry, as it maps the real well-known apps.
    mapped = [
        appid
        for appid, app in sorted(sandbox.catalogue.apps.items())
        if app.truth.kind is AppKind.GAME
        and app.truth.status is MatchStatus.MATCHED
        and app.truth.match_source is MatchSource.EXTERNAL_GAMES
        and not app.truth.tags
    ]
    return Target(
        name="emulator",
        steam_base_url=sandbox.steam_api_base_url,
        igdb_base_url=sandbox.igdb_api_base_url,
        twitch_token_url=sandbox.twitch_token_url,
        library_steam_id=users.small.steamid64,
        vanity=str(users.small.vanity),
        vanity_steam_id=users.small.steamid64,
        hidden_steam_ids=(
            users.private_profile.steamid64,
            users.private_games.steamid64,
            users.nonexistent.steamid64,
        ),
        empty_library=(users.empty.steamid64, {}),
        igdb_app_ids=tuple(mapped[:4]),
        store_apps=_emulator_store_apps(sandbox),
        traffic=Traffic(
            igdb_prefix=sandbox.igdb_api_base_url, twitch_prefix=f"{sandbox.base_url}/oauth2/"
        ),
        steam_api_key=sandbox.steam_api_key,
        igdb_client_id=sandbox.igdb_client_id,
        igdb_client_secret=sandbox.igdb_client_secret,
    )


def _emulator_store_apps(sandbox: Sandbox) -> StoreApps:
    """The lowest app id of each kind the store types plainly (no delisted or store-typed-game
    quirk), so the same answers hold as for the real well-known apps."""
    apps = sorted(sandbox.catalogue.apps.values(), key=lambda app: app.appid)

    def first(kind: AppKind, *, matched: bool = False) -> int:
        return next(
            app.appid
            for app in apps
            if app.truth.kind is kind
            and not {"delisted", "store_typed_game", "store_trap"} & set(app.truth.tags)
            and (not matched or app.truth.status is MatchStatus.MATCHED)
        )

    return StoreApps(
        game=first(AppKind.GAME, matched=True),
        dlc=first(AppKind.DLC),
        soundtrack=first(AppKind.SOUNDTRACK),
        server=first(AppKind.SERVER),
        unknown=UNKNOWN_APP_ID,
    )


def live_values(root: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The live variables from `.env.integration` at `root`, the environment winning."""
    environ = os.environ if environ is None else environ
    path = root / ENV_FILE
    found = (
        {name: value for name, value in dotenv_values(path).items() if value}
        if path.is_file()
        else {}
    )
    found.update({name: environ[name] for name in LIVE_VARIABLES if environ.get(name)})
    return {name: found[name].strip() for name in LIVE_VARIABLES if found.get(name, "").strip()}


def missing_live_variables(values: Mapping[str, str]) -> list[str]:
    return [name for name in LIVE_VARIABLES if not values.get(name)]


def live_target(values: Mapping[str, str]) -> Target:
    """The real Steam Web API, Twitch and IGDB with the operator's credentials."""
    steam_id = str(parse_steam_id64(values["LIVE_STEAM_ID"]))
    return Target(
        name="live",
        steam_base_url="https://api.steampowered.com",
        igdb_base_url="https://api.igdb.com/v4",
        twitch_token_url="https://id.twitch.tv/oauth2/token",
        library_steam_id=steam_id,
        vanity=LIVE_VANITY,
        vanity_steam_id=LIVE_VANITY_STEAM_ID,
        hidden_steam_ids=(NONEXISTENT_STEAM_ID,),
        # Plain-query appids_filter is reported ignored; input_json carries it reliably.
        empty_library=(
            steam_id,
            {"input_json": json.dumps({"steamid": steam_id, "appids_filter": [UNOWNED_APP_ID]})},
        ),
        igdb_app_ids=LIVE_IGDB_APP_IDS,
        store_apps=StoreApps(**LIVE_STORE_APPS, unknown=UNKNOWN_APP_ID),
        traffic=Traffic(
            igdb_prefix="https://api.igdb.com/v4", twitch_prefix="https://id.twitch.tv/oauth2/"
        ),
        steam_api_key=values["STEAM_API_KEY"],
        igdb_client_id=values["IGDB_CLIENT_ID"],
        igdb_client_secret=values["IGDB_CLIENT_SECRET"],
    )


async def token_answer(target: Target, http: httpx.AsyncClient) -> tuple[int, Any]:
    """The session's one Twitch token answer on this target (status, JSON): asked once."""
    if target.traffic.token_answer is None:
        response = await http.post(target.twitch_token_url, data=token_form(target))
        target.traffic.token_answer = (response.status_code, response.json())
    return target.traffic.token_answer


async def igdb_token(target: Target, http: httpx.AsyncClient) -> str:
    """The session's Twitch app token on this target."""
    status, body = await token_answer(target, http)
    assert status == 200, body
    return str(body["access_token"])


def token_form(target: Target) -> dict[str, str]:
    return {
        "client_id": target.igdb_client_id,
        "client_secret": target.igdb_client_secret,
        "grant_type": "client_credentials",
    }


def igdb_headers(target: Target, token: str) -> dict[str, str]:
    return {"Client-ID": target.igdb_client_id, "Authorization": f"Bearer {token}"}
