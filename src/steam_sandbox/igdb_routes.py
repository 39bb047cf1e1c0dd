"""IGDB v4 routes: Apicalypse queries on each endpoint, ``/count`` variants and ``multiquery``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from steam_sandbox.apicalypse import ApicalypseError, parse_multiquery, parse_query
from steam_sandbox.gate import igdb_enter, igdb_leave, inject_faults
from steam_sandbox.igdb_schema import SCHEMA
from steam_sandbox.responses import IGDB_UNAUTHORIZED, igdb_not_found, json_response
from steam_sandbox.state import SandboxState

# Endpoints the emulator answers (reference endpoints included for expansion).
ENDPOINTS = frozenset(SCHEMA)


def igdb_routes(state: SandboxState) -> list[Route]:
    """``/v4/{endpoint}``, ``/v4/{endpoint}/count`` and ``/v4/multiquery`` bound to ``state``."""

    async def endpoint(request: Request) -> Response:
        name = request.path_params["endpoint"]
        count = request.url.path.rstrip("/").endswith("/count")
        label = f"{name}/count" if count else name
        if name == "multiquery" and not count:
            label = "multiquery"
        elif name not in ENDPOINTS:
            label = "unknown"
        response = await _handle(state, request, name, count)
        state.stats.request("igdb", label, response.status_code)
        return response

    methods = ["POST", "GET"]
    return [
        Route("/v4/{endpoint}/count", endpoint, methods=methods),
        Route("/v4/{endpoint}", endpoint, methods=methods),
    ]


def _authorized(state: SandboxState, request: Request) -> bool:
    if request.headers.get("client-id") != state.credentials.igdb_client_id:
        return False
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return False
    token = header[len("Bearer ") :].strip()
    client_id = state.credentials.igdb_client_id
    return state.tokens.remaining(token, state.clock(), client_id) is not None


async def _handle(state: SandboxState, request: Request, name: str, count: bool) -> Response:
    if not _authorized(state, request):
        return json_response(IGDB_UNAUTHORIZED, 401)
    try:
        limited = igdb_enter(state)
        if limited is not None:
            return limited
        fault = await inject_faults(state, "igdb")
        if fault is not None:
            return fault
        if name == "multiquery" and not count:
            return _multiquery(state, await _text(request))
        if name not in ENDPOINTS:
            return igdb_not_found()
        return _single(state, name, count, await _text(request))
    except ApicalypseError as exc:
        return json_response(exc.body(), 400)
    finally:
        igdb_leave(state)


async def _text(request: Request) -> str:
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApicalypseError("Request body is not valid UTF-8") from exc


def _single(state: SandboxState, endpoint: str, count: bool, body: str) -> Response:
    query = parse_query(body)
    engine = state.engine()
    if count:
        return json_response({"count": engine.count(endpoint, query)})
    return json_response(engine.run(endpoint, query))


def _multiquery(state: SandboxState, body: str) -> Response:
    blocks = parse_multiquery(body)
    engine = state.engine()
    for block in blocks:
        if block.endpoint not in ENDPOINTS:
            raise ApicalypseError(f"Unknown endpoint '{block.endpoint}' in query '{block.name}'")
    results: list[dict[str, Any]] = []
    for block in blocks:
        if block.count:
            results.append({"name": block.name, "count": engine.count(block.endpoint, block.query)})
        else:
            results.append({"name": block.name, "result": engine.run(block.endpoint, block.query)})
    return json_response(results)
