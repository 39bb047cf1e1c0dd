"""The sandbox's Twitch OAuth endpoints over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from steam_sandbox import Sandbox

TOKEN = "/oauth2/token"


def credentials(sb: Sandbox, **overrides: str) -> dict[str, str]:
    params = {
        "client_id": sb.igdb_client_id,
        "client_secret": sb.igdb_client_secret,
        "grant_type": "client_credentials",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v}


def test_token_from_query_string(http: httpx.Client, sb: Sandbox) -> None:
    response = http.post(TOKEN, params=credentials(sb))

    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "bearer"
    assert 4_000_000 < body["expires_in"] < 6_000_000
    assert sb.stats().tokens_issued == 1


def test_token_from_form_body(http: httpx.Client, sb: Sandbox) -> None:
    response = http.post(TOKEN, data=credentials(sb))

    assert response.status_code == 200
    assert response.json()["access_token"]


def test_get_is_404(http: httpx.Client, sb: Sandbox) -> None:
    assert http.get(TOKEN, params=credentials(sb)).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "status", "message"),
    [
        ({"client_id": "someoneelse"}, 400, "invalid client"),
        ({"client_secret": "wrong"}, 403, "invalid client secret"),
        ({"client_secret": ""}, 403, "invalid client secret"),
        ({"grant_type": ""}, 400, "missing grant type"),
        ({"client_id": ""}, 400, "missing client id"),
    ],
)
def test_token_errors(
    http: httpx.Client, sb: Sandbox, overrides: dict[str, str], status: int, message: str
) -> None:
    response = http.post(TOKEN, params=credentials(sb, **overrides))

    assert response.status_code == status
    assert response.json() == {"status": status, "message": message}


def test_expires_in_is_configurable(http: httpx.Client, sb: Sandbox) -> None:
    sb.set_knobs(twitch={"expires_in": 2})

    assert http.post(TOKEN, params=credentials(sb)).json()["expires_in"] == 2


def test_validate(http: httpx.Client, sb: Sandbox, igdb: Any) -> None:
    ok = http.get("/oauth2/validate", headers={"Authorization": f"OAuth {igdb.token}"})
    bad = http.get("/oauth2/validate", headers={"Authorization": "OAuth nope"})
    missing = http.get("/oauth2/validate")

    assert ok.status_code == 200
    assert ok.json()["client_id"] == sb.igdb_client_id
    assert ok.json()["expires_in"] > 0
    assert (bad.status_code, bad.json()["message"]) == (401, "invalid access token")
    assert (missing.status_code, missing.json()["message"]) == (401, "missing authorization token")


def test_revoked_tokens_stop_working(http: httpx.Client, sb: Sandbox, igdb: Any) -> None:
    assert igdb.post("games", "fields name;").status_code == 200

    assert sb.revoke_tokens() >= 1

    assert igdb.post("games", "fields name;").status_code == 401
    validate = http.get("/oauth2/validate", headers={"Authorization": f"OAuth {igdb.token}"})
    assert validate.status_code == 401


def test_revocation_via_admin_endpoint(http: httpx.Client, igdb: Any) -> None:
    assert http.post("/_sandbox/revoke-tokens").json()["revoked"] >= 1
    assert igdb.post("games", "fields name;").status_code == 401


def test_a_zero_lifetime_token_is_expired_at_once(sb: Sandbox, igdb: Any) -> None:
    sb.set_knobs(twitch={"expires_in": 0})
    igdb.token = igdb.client.post(TOKEN, params=credentials(sb)).json()["access_token"]

    assert igdb.post("games", "fields name;").status_code == 401
