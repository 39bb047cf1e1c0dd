"""Async client for the Steam Web API calls stage 1 needs, with retries and typed errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import httpx
import structlog
from pydantic import BaseModel, SecretStr, ValidationError

from lambdas.clients.http import (
    Endpoint,
    HttpLimits,
    PooledClient,
    RetryPolicy,
    raise_if_retryable,
    timeout_from_settings,
    upstream_errors,
)
from lambdas.config import STEAM_API_BASE_URL
from lambdas.errors import (
    ConfigurationError,
    InvalidSteamIdError,
    ProfileNotFoundError,
    SteamAuthError,
    SteamRateLimitedError,
    UpstreamUnavailableError,
)
from lambdas.models.steam import (
    OwnedGamesBody,
    OwnedGamesResponse,
    PlayerSummariesResponse,
    PlayerSummary,
    VanityResponse,
    WishlistBody,
    WishlistResponse,
)

if TYPE_CHECKING:
    from lambdas.config import Settings

log = structlog.get_logger()

M = TypeVar("M", bound=BaseModel)

WISHLIST_PATH = "/IWishlistService/GetWishlist/v1/"
OWNED_GAMES_PATH = "/IPlayerService/GetOwnedGames/v1/"
_EResultNoMatch = 42
_MAX_SUMMARY_IDS = 100


class SteamClient(PooledClient):
    """One pooled connection to Steam per run; use as `async with SteamClient(...) as steam`."""

    def __init__(
        self,
        *,
        api_key: SecretStr,
        base_url: str = STEAM_API_BASE_URL,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: HttpLimits | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            limits=limits,
            endpoints=(Endpoint("STEAM_API_BASE_URL", base_url, STEAM_API_BASE_URL),),
        )
        self._api_key = api_key
        self._retry = retry or RetryPolicy()
        self.requests_sent = 0  # HTTP requests, retries included (the key's daily budget)
        self.keyless_requests_sent = 0  # GetWishlist: no key, so not the key's budget

    @classmethod
    def from_settings(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> SteamClient:
        return cls(
            api_key=settings.require_steam_api_key(),
            base_url=settings.steam_api_base_url,
            timeout=timeout_from_settings(settings),
            retry=RetryPolicy.from_settings(settings, max_attempts=settings.steam_max_attempts),
            transport=transport,
            limits=HttpLimits.from_settings(settings),
        )

    async def resolve_vanity(self, vanity: str) -> int:
        """The SteamID64 behind a custom URL name; PROFILE_NOT_FOUND when there is none."""
        payload = await self._get_json(
            "/ISteamUser/ResolveVanityURL/v1/", {"vanityurl": vanity}, VanityResponse
        )
        body = payload.response
        if body.success == _EResultNoMatch or body.steamid is None:
            raise ProfileNotFoundError(f"no Steam profile has the custom URL name {vanity!r}")
        if body.success != 1 or not body.steamid.isdigit():
            raise UpstreamUnavailableError(
                f"Steam could not resolve {vanity!r} (eresult {body.success})"
            )
        return int(body.steamid)

    async def get_player_summaries(self, steam_ids: list[int]) -> dict[int, PlayerSummary]:
        """Summaries keyed by SteamID64; unknown ids are absent, as Steam omits them."""
        found: dict[int, PlayerSummary] = {}
        for start in range(0, len(steam_ids), _MAX_SUMMARY_IDS):
            chunk = steam_ids[start : start + _MAX_SUMMARY_IDS]
            payload = await self._get_json(
                "/ISteamUser/GetPlayerSummaries/v2/",
                {"steamids": ",".join(str(steam_id) for steam_id in chunk)},
                PlayerSummariesResponse,
            )
            for player in payload.response.players:
                if player.steamid.isdigit():
                    found[int(player.steamid)] = player
        return found

    async def get_owned_games(
        self, steam_id64: int, *, include_free_sub: bool = False
    ) -> OwnedGamesBody:
        """GetOwnedGames with app info, played free games and unvetted apps (which Steam hides
        by default); free-license apps only when asked. `{}` means private or unknown."""
        answer = await self.get_owned_games_answer(steam_id64, include_free_sub=include_free_sub)
        return owned_games_body(answer)

    async def get_owned_games_answer(
        self, steam_id64: int, *, include_free_sub: bool = False
    ) -> bytes:
        """`get_owned_games`' answer as Steam sent it, not yet validated (`owned_games_body`
        does that): a caller that needs only a few values of each game reads them itself."""
        response = await self._get(
            OWNED_GAMES_PATH,
            {
                "steamid": str(steam_id64),
                "include_appinfo": "1",
                "include_played_free_games": "1",
                "skip_unvetted_apps": "0",
                "include_free_sub": "1" if include_free_sub else "0",
                "format": "json",
            },
        )
        return response.content

    async def get_wishlist(self, steam_id64: int) -> WishlistBody:
        """GetWishlist (no key needed, none sent); no `items` means empty or private."""
        payload = await self._get_json(
            WISHLIST_PATH, {"steamid": str(steam_id64)}, WishlistResponse, keyless=True
        )
        return payload.response

    async def _get_json(
        self, path: str, params: dict[str, str], model: type[M], *, keyless: bool = False
    ) -> M:
        response = await self._get(path, params, keyless=keyless)
        return _validated(response.content, model, path)

    async def _get(
        self, path: str, params: dict[str, str], *, keyless: bool = False
    ) -> httpx.Response:
        query = params if keyless else {**params, "key": self._api_key.get_secret_value()}
        with upstream_errors("Steam", rate_limited=SteamRateLimitedError, about=f" to {path}"):
            async for attempt in self._retry.retrying(upstream="Steam"):
                with attempt:
                    if keyless:
                        self.keyless_requests_sent += 1
                    else:
                        self.requests_sent += 1
                    response = await self._exchange("GET", path, params=query)
                    raise_if_retryable(response)
        _raise_for_client_error(response, path)
        return response


def owned_games_body(answer: bytes) -> OwnedGamesBody:
    """GetOwnedGames' `response` of an answer (`get_owned_games_answer`), validated."""
    return _validated(answer, OwnedGamesResponse, OWNED_GAMES_PATH).response


def _validated(content: bytes, model: type[M], path: str) -> M:
    try:
        return model.model_validate_json(content)
    except ValidationError as exc:
        raise UpstreamUnavailableError(
            f"Steam sent an unreadable answer to {path} ({exc.error_count()} problems)"
        ) from exc


def _raise_for_client_error(response: httpx.Response, path: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status in (401, 403):
        raise SteamAuthError(f"Steam refused the Web API key (HTTP {status}); check STEAM_API_KEY")
    if status == 400:
        if "key" in response.text.lower():
            raise SteamAuthError("Steam says the Web API key is missing; check STEAM_API_KEY")
        raise InvalidSteamIdError(f"Steam rejected the request to {path} as malformed (HTTP 400)")
    if status == 404:
        raise ConfigurationError(f"Steam has no method {path} (HTTP 404); check STEAM_API_BASE_URL")
    raise UpstreamUnavailableError(f"Steam answered HTTP {status} to {path}")
