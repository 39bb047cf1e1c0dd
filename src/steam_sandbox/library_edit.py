"""A client-side transport that edits the emulator's GetOwnedGames answers: a library as it was
before some games were bought, or after some were played. Tests and benchmarks hand it to the
pipeline (`StageContext.transport`) to make a re-import that finds new games and longer
playtimes, as a real next-day fetch would."""

from __future__ import annotations

from collections.abc import Collection

import httpx
import pydantic_core


class LibraryEdit(httpx.AsyncBaseTransport):
    """Passes every request to the network; GetOwnedGames answers lose the `hidden` apps and
    gain `minutes` of playtime (Windows and total, last played now) on the `played` ones."""

    def __init__(
        self,
        *,
        hidden: Collection[int] = (),
        played: Collection[int] = (),
        minutes: int = 60,
        last_played: int = 0,
    ) -> None:
        self.hidden = frozenset(hidden)
        self.played = frozenset(played)
        self.minutes = minutes
        self.last_played = last_played
        self._inner: httpx.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._inner is None:  # one connection pool per client (and event loop)
            self._inner = httpx.AsyncHTTPTransport()
        response = await self._inner.handle_async_request(request)
        if "GetOwnedGames" not in request.url.path or response.status_code != 200:
            return response
        body = pydantic_core.from_json(await response.aread())
        games = body.get("response", {}).get("games")
        if games is None:
            return response
        kept = [game for game in games if game.get("appid") not in self.hidden]
        for game in kept:
            if game.get("appid") in self.played:
                game["playtime_forever"] = game.get("playtime_forever", 0) + self.minutes
                game["playtime_windows_forever"] = (
                    game.get("playtime_windows_forever", 0) + self.minutes
                )
                if self.last_played:
                    game["rtime_last_played"] = self.last_played
        body["response"]["games"] = kept
        body["response"]["game_count"] = len(kept)
        return httpx.Response(
            200,
            headers={"content-type": "application/json"},
            content=pydantic_core.to_json(body),
            request=request,
        )

    async def aclose(self) -> None:
        """Each client closes the transport it was given; the next one opens a new pool."""
        if self._inner is not None:
            inner, self._inner = self._inner, None
            await inner.aclose()
