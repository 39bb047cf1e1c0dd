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
)

if TYPE_CHECKING:
    from lambdas.config import Settings

log = structlog.get_logger()

M = TypeVar("M", bound=BaseModel)

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

    async def get_owned_games(self, steam_id64: int) -> OwnedGamesBody:
        """GetOwnedGames with app info and played free games; `{}` means private or unknown."""
        payload = await self._get_json(
            "/IPlayerService/GetOwnedGames/v1/",
            {
                "steamid": str(steam_id64),
                "include_appinfo": "1",
                "include_played_free_games": "1",
                "format": "json",
            },
            OwnedGamesResponse,
        )
        return payload.response

    async def _get_json(self, path: str, params: dict[str, str], model: type[M]) -> M:
        response = await self._get(path, params)
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise UpstreamUnavailableError(
                f"Steam sent an unreadable answer to {path} ({exc.error_count()} problems)"
            ) from exc

    async def _get(self, path: str, params: dict[str, str]) -> httpx.Response:
        query = {**params, "key": self._api_key.get_secret_value()}
        with upstream_errors("Steam", rate_limited=SteamRateLimitedError, about=f" to {path}"):
            async for attempt in self._retry.retrying(upstream="Steam"):
                with attempt:
                    self.requests_sent += 1
                    response = await self._exchange("GET", path, params=query)
                    raise_if_retryable(response)
        _raise_for_client_error(response, path)
        return response


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
