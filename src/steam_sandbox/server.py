"""The ``Sandbox`` Python API: runs the emulator with uvicorn in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import uvicorn

from steam_sandbox.app import build_app
from steam_sandbox.catalogue import Catalogue
from steam_sandbox.knobs import Knobs
from steam_sandbox.models import AppTruth, SandboxUser, WishlistEntry
from steam_sandbox.state import Clock, SandboxState
from steam_sandbox.stats import SandboxStats
from steam_sandbox.users import SandboxUsers

_START_TIMEOUT = 15.0


class SandboxError(RuntimeError):
    """The sandbox could not start or is not running."""


class Sandbox:
    """Local Steam Web API + Twitch OAuth + IGDB v4 emulator; ``with Sandbox(seed=1) as sb: …``."""

    def __init__(
        self,
        *,
        seed: int = 42,
        knobs: Knobs | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        pagination_rows: int = 0,
        catalogue: Catalogue | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._host = host
        self._port = port
        self.state = SandboxState(
            seed=seed,
            knobs=knobs,
            catalogue=catalogue,
            pagination_rows=pagination_rows,
            clock=clock,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Bind the port and serve in a daemon thread; returns once requests are accepted."""
        if self._server is not None:
            return self
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self._host, self._port))
        except OSError as exc:
            sock.close()
            raise SandboxError(f"cannot bind {self._host}:{self._port}: {exc}") from exc
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self.state),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            backlog=512,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="sandbox-server", daemon=True
        )
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise SandboxError("the sandbox server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Shut the server down and release the port."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server thread ends (or ``timeout``); True if it ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses and credentials -----------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port (0 before ``start`` when a free port was requested)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running sandbox."""
        if self._server is None:
            raise SandboxError("the sandbox is not running")
        return f"http://{self._host}:{self._port}"

    @property
    def steam_api_base_url(self) -> str:
        """Stands in for ``https://api.steampowered.com``."""
        return self.base_url

    @property
    def igdb_api_base_url(self) -> str:
        """Stands in for ``https://api.igdb.com/v4``."""
        return f"{self.base_url}/v4"

    @property
    def twitch_token_url(self) -> str:
        """Stands in for ``https://id.twitch.tv/oauth2/token``."""
        return f"{self.base_url}/oauth2/token"

    @property
    def twitch_validate_url(self) -> str:
        """Stands in for ``https://id.twitch.tv/oauth2/validate``."""
        return f"{self.base_url}/oauth2/validate"

    @property
    def steam_api_key(self) -> str:
        """The one Steam Web API key the sandbox accepts (32 hex characters)."""
        return self.state.credentials.steam_api_key

    @property
    def igdb_client_id(self) -> str:
        """The Twitch client id the sandbox accepts."""
        return self.state.credentials.igdb_client_id

    @property
    def igdb_client_secret(self) -> str:
        """The Twitch client secret the sandbox accepts."""
        return self.state.credentials.igdb_client_secret

    def env(self) -> dict[str, str]:
        """Environment variables that point the pipeline at this sandbox."""
        return {
            "STEAM_API_KEY": self.steam_api_key,
            "IGDB_CLIENT_ID": self.igdb_client_id,
            "IGDB_CLIENT_SECRET": self.igdb_client_secret,
            "STEAM_API_BASE_URL": self.steam_api_base_url,
            "IGDB_API_BASE_URL": self.igdb_api_base_url,
            "TWITCH_TOKEN_URL": self.twitch_token_url,
        }

    # -- data --------------------------------------------------------------------------------

    @property
    def users(self) -> SandboxUsers:
        """The named users (small, medium, large, huge, private_profile, …)."""
        return self.state.users

    @property
    def catalogue(self) -> Catalogue:
        """The generated Steam store + IGDB catalogue."""
        return self.state.catalogue

    def ground_truth(self, user: SandboxUser | str) -> list[AppTruth]:
        """Truth for every app a default stage-1 fetch of ``user`` returns, by ascending app id."""
        found = self.users.by_name(user) if isinstance(user, str) else user
        return self.state.libraries.ground_truth(found)

    def wishlist(self, user: SandboxUser | str) -> tuple[WishlistEntry, ...]:
        """The user's wishlist by priority, as GetWishlist lists it when the profile is public."""
        found = self.users.by_name(user) if isinstance(user, str) else user
        return self.state.libraries.wishlist(found)

    def buy(self, user: SandboxUser | str, appid: int) -> None:
        """The user buys `appid`: owned from now on (unplayed), off the wishlist; `reset` undoes
        it."""
        found = self.users.by_name(user) if isinstance(user, str) else user
        self.state.libraries.buy(found, appid)

    # -- knobs and counters ------------------------------------------------------------------

    @property
    def knobs(self) -> Knobs:
        """The knobs in force."""
        return self.state.knobs

    def set_knobs(self, knobs: Knobs | None = None, /, **updates: Mapping[str, Any]) -> Knobs:
        """Replace all knobs, and/or apply partial updates: ``set_knobs(igdb={"latency_ms": 50})``.

        Keys are ``steam``, ``twitch``, ``igdb`` or ``all`` (applies to every service).
        """
        if knobs is not None:
            self.state.replace_knobs(knobs)
        return self.state.set_knobs(updates) if updates else self.state.knobs

    def revoke_tokens(self) -> int:
        """Invalidate every Twitch token issued so far; returns how many were live."""
        return self.state.revoke_tokens()

    def stats(self) -> SandboxStats:
        """Counters since the last reset."""
        return self.state.snapshot()

    def reset_stats(self) -> None:
        """Zero the counters (knobs and limiters untouched)."""
        self.state.reset(knobs=False, stats=True, limits=False)

    def reset(self, *, knobs: bool = True, stats: bool = True, limits: bool = True) -> None:
        """Restore initial knobs, zero counters, clear rate-limit windows, restart fault RNGs."""
        self.state.reset(knobs=knobs, stats=stats, limits=limits)
