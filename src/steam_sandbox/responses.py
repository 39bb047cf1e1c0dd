"""Canned upstream-shaped responses: Steam HTML errors, Twitch JSON errors, IGDB error objects."""

from __future__ import annotations

from typing import Any, Final

from starlette.responses import HTMLResponse, JSONResponse, Response

_STEAM_TITLES: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
INVALID_KEY_TEXT: Final = (
    "Access is denied. Retrying will not help. Please verify your <pre>key=</pre> parameter."
)
IGDB_UNAUTHORIZED: Final = {
    "message": "Authorization Failure. Have you tried:",
    "Tip 1": "Ensure you are sending Authorization and Client-ID as headers.",
    "Tip 2": "Ensure Authorization value starts with 'Bearer ', including the space",
    "Tip 3": (
        "Ensure Authorization value ends with the App Access Token you generated, "
        "NOT your Client Secret."
    ),
    "Docs": "https://api-docs.igdb.com/#authentication",
    "Discord": "https://discord.gg/FrvfwQg",
}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Compact JSON, UTF-8, non-ASCII kept as is."""
    return JSONResponse(body, status_code=status, headers=headers)


def steam_html(status: int, message: str = "", headers: dict[str, str] | None = None) -> Response:
    """Steam's front-end HTML error page."""
    title = _STEAM_TITLES.get(status, "Error")
    body = f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{message}</body></html>"
    if status == 429:
        body = (
            "<html><head><title>429 Too Many Requests</title></head>"
            "<body><h1>Too Many Requests</h1></body></html>"
        )
    return HTMLResponse(body, status_code=status, headers=headers)


def steam_json(body: Any, eresult: int = 1) -> Response:
    """A Steam service-call success with its ``x-eresult`` header."""
    return json_response(body, headers={"x-eresult": str(eresult)})


def steam_json_bytes(body: bytes, eresult: int = 1) -> Response:
    """A pre-rendered Steam JSON body with its ``x-eresult`` header."""
    return Response(body, media_type="application/json", headers={"x-eresult": str(eresult)})


def twitch_error(status: int, message: str) -> Response:
    """Twitch's ``{"status":…,"message":…}`` error."""
    return json_response({"status": status, "message": message}, status)


def igdb_not_found() -> Response:
    """IGDB's javalin-style 404 object."""
    return json_response(
        {
            "title": "Not Found",
            "status": 404,
            "type": "https://javalin.io/documentation#notfoundresponse",
            "details": {},
        },
        404,
    )


def igdb_server_error(status: int) -> Response:
    """IGDB's javalin-style 5xx object."""
    return json_response(
        {
            "title": "Internal server error",
            "status": status,
            "type": "https://javalin.io/documentation#internalservererrorresponse",
            "details": {},
        },
        status,
    )


def too_many_requests(service: str, retry_after: int | None, status: int = 429) -> Response:
    """The 429 (or Steam's optional 403) a rate limit produces, with Retry-After if configured."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    if service == "steam":
        if status == 403:
            return steam_html(403, INVALID_KEY_TEXT, headers)
        response = steam_html(429, headers=headers)
        response.headers["x-eresult"] = "84"
        return response
    if service == "twitch":
        return json_response(
            {"error": "Too Many Requests", "status": 429, "message": "rate limit exceeded"},
            429,
            headers,
        )
    return json_response({"message": "Too Many Requests"}, 429, headers)


def server_error(service: str, status: int) -> Response:
    """An injected 5xx in the service's style (Steam alternates HTML and empty bodies)."""
    if service == "igdb":
        return igdb_server_error(status)
    if service == "twitch":
        return json_response({"status": status, "message": "Internal Server Error"}, status)
    if status == 502:
        return Response(b"", status_code=502)
    return steam_html(status)
