"""Admin routes under ``/_sandbox``: stats, knobs, reset, token revocation, users, ground truth."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from steam_sandbox.responses import json_response
from steam_sandbox.state import SandboxState


def admin_routes(state: SandboxState) -> list[Route]:
    """Routes that inspect and steer the sandbox; they are never gated or counted."""

    async def stats(request: Request) -> Response:
        return json_response(state.snapshot().model_dump())

    async def knobs(request: Request) -> Response:
        if request.method == "POST":
            try:
                updates = json.loads(await request.body() or b"{}")
                state.set_knobs(_as_updates(updates))
            except (ValueError, TypeError, ValidationError) as exc:
                return json_response({"error": str(exc)}, 422)
        return json_response(state.knobs.model_dump())

    async def reset(request: Request) -> Response:
        options: dict[str, Any] = json.loads(await request.body() or b"{}")
        state.reset(
            knobs=bool(options.get("knobs", True)),
            stats=bool(options.get("stats", True)),
            limits=bool(options.get("limits", True)),
        )
        return json_response({"reset": True})

    async def revoke(request: Request) -> Response:
        return json_response({"revoked": state.revoke_tokens()})

    async def users(request: Request) -> Response:
        return json_response([asdict(user) for user in state.users])

    async def ground_truth(request: Request) -> Response:
        try:
            user = state.users.by_name(request.path_params["user"])
        except KeyError:
            return json_response({"error": "unknown user"}, 404)
        return json_response([asdict(t) for t in state.libraries.ground_truth(user)])

    async def buy(request: Request) -> Response:
        try:
            user = state.users.by_name(request.path_params["user"])
            appid = int(json.loads(await request.body() or b"{}")["appid"])
            state.libraries.buy(user, appid)
        except (KeyError, ValueError, TypeError) as exc:
            return json_response({"error": f"unknown user or app: {exc}"}, 404)
        return json_response({"bought": appid})

    return [
        Route("/_sandbox/stats", stats, methods=["GET"]),
        Route("/_sandbox/users/{user}/buy", buy, methods=["POST"]),
        Route("/_sandbox/knobs", knobs, methods=["GET", "POST"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/revoke-tokens", revoke, methods=["POST"]),
        Route("/_sandbox/users", users, methods=["GET"]),
        Route("/_sandbox/ground-truth/{user}", ground_truth, methods=["GET"]),
    ]


def _as_updates(value: object) -> dict[str, dict[str, Any]]:
    """Check that a decoded body has the shape service → knob → value."""
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise TypeError("expected an object of service → knob → value")
    return value
