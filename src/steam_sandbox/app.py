"""Assembles the sandbox's Starlette application: every emulated host on one port."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from steam_sandbox.admin_routes import admin_routes
from steam_sandbox.igdb_routes import igdb_routes
from steam_sandbox.responses import igdb_not_found, json_response, steam_html
from steam_sandbox.state import SandboxState
from steam_sandbox.steam_routes import steam_routes
from steam_sandbox.twitch_routes import twitch_routes

_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def build_app(state: SandboxState) -> Starlette:
    """The ASGI app for ``state``; unknown paths answer 404 in the style of the host they mimic."""

    async def not_found(request: Request) -> Response:
        path = request.url.path
        if path.startswith("/v4/"):
            state.stats.request("igdb", "unknown", 404)
            return igdb_not_found()
        if path.startswith("/oauth2/"):
            state.stats.request("twitch", "unknown", 404)
            return json_response(
                {"error": "Not Found", "status": 404, "message": "page not found"}, 404
            )
        state.stats.request("steam", "unknown", 404)
        return steam_html(404)

    routes = [
        *admin_routes(state),
        *steam_routes(state),
        *twitch_routes(state),
        *igdb_routes(state),
        Route("/{path:path}", not_found, methods=_ALL_METHODS),
    ]
    return Starlette(routes=routes)
