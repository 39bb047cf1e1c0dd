"""Twitch OAuth routes: the client-credentials token endpoint and token validation."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from steam_sandbox.gate import inject_faults
from steam_sandbox.responses import json_response, twitch_error
from steam_sandbox.state import SandboxState


def twitch_routes(state: SandboxState) -> list[Route]:
    """``POST /oauth2/token`` and ``GET /oauth2/validate`` bound to ``state``."""

    async def token(request: Request) -> Response:
        response = await inject_faults(state, "twitch") or await _token(state, request)
        state.stats.request("twitch", "token", response.status_code)
        return response

    async def validate(request: Request) -> Response:
        response = await inject_faults(state, "twitch") or _validate(state, request)
        state.stats.request("twitch", "validate", response.status_code)
        return response

    return [
        Route("/oauth2/token", token, methods=["POST"]),
        Route("/oauth2/validate", validate, methods=["GET"]),
    ]


async def _token(state: SandboxState, request: Request) -> Response:
    params = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = (await request.body()).decode("utf-8", errors="replace")
        params.update(parse_qsl(body, keep_blank_values=True))
    client_id = params.get("client_id")
    if not client_id:
        return twitch_error(400, "missing client id")
    if client_id != state.credentials.igdb_client_id:
        return twitch_error(400, "invalid client")
    if params.get("client_secret") != state.credentials.igdb_client_secret:
        return twitch_error(403, "invalid client secret")
    grant_type = params.get("grant_type")
    if not grant_type:
        return twitch_error(400, "missing grant type")
    if grant_type != "client_credentials":
        return twitch_error(400, "unsupported grant type")
    expires_in = state.knobs.twitch.expires_in
    access_token = state.tokens.issue(client_id, expires_in, state.clock())
    state.stats.token_issued()
    return json_response(
        {"access_token": access_token, "expires_in": expires_in, "token_type": "bearer"}
    )


def _validate(state: SandboxState, request: Request) -> Response:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header or scheme.lower() not in ("oauth", "bearer") or not token.strip():
        return twitch_error(401, "missing authorization token")
    token = token.strip()
    remaining = state.tokens.remaining(token, state.clock())
    if remaining is None:
        return twitch_error(401, "invalid access token")
    return json_response(
        {"client_id": state.credentials.igdb_client_id, "scopes": [], "expires_in": remaining}
    )
