"""Helpers for the sandbox's own HTTP tests: clients, a token, and IGDB limits off by default."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from steam_sandbox import Sandbox


@pytest.fixture
def sb(fresh_sandbox: Sandbox) -> Sandbox:
    """A reset sandbox whose IGDB rate limit is off (limiter tests switch it back on)."""
    fresh_sandbox.set_knobs(igdb={"rate_limit_enabled": False})
    return fresh_sandbox


@pytest.fixture
def http(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.base_url, timeout=10) as client:
        yield client


class Steam:
    """GETs a Steam method with the sandbox key unless told otherwise."""

    def __init__(self, client: httpx.Client, key: str) -> None:
        self.client = client
        self.key = key

    def get(self, path: str, **params: Any) -> httpx.Response:
        params.setdefault("key", self.key)
        params = {k: v for k, v in params.items() if v is not None}
        return self.client.get(path, params=params)

    def owned(self, steamid: str, **params: Any) -> httpx.Response:
        return self.get("/IPlayerService/GetOwnedGames/v1/", steamid=steamid, **params)


class Igdb:
    """POSTs Apicalypse bodies with a valid Client-ID and Bearer token."""

    def __init__(self, client: httpx.Client, sb: Sandbox) -> None:
        self.client = client
        self.sb = sb
        self.token = token_for(client, sb)

    def headers(self) -> dict[str, str]:
        return {"Client-ID": self.sb.igdb_client_id, "Authorization": f"Bearer {self.token}"}

    def post(self, endpoint: str, body: str) -> httpx.Response:
        return self.client.post(f"/v4/{endpoint}", content=body, headers=self.headers())

    def query(self, endpoint: str, body: str) -> Any:
        response = self.post(endpoint, body)
        assert response.status_code == 200, response.text
        return response.json()


def token_for(client: httpx.Client, sb: Sandbox) -> str:
    response = client.post(
        "/oauth2/token",
        params={
            "client_id": sb.igdb_client_id,
            "client_secret": sb.igdb_client_secret,
            "grant_type": "client_credentials",
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
def steam(http: httpx.Client, sb: Sandbox) -> Steam:
    return Steam(http, sb.steam_api_key)


@pytest.fixture
def igdb(http: httpx.Client, sb: Sandbox) -> Igdb:
    return Igdb(http, sb)
