"""The sandbox's shared run-time state: world, credentials, knobs, limiters, tokens, counters."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from steam_sandbox.catalogue import Catalogue, CatalogueConfig, shared_catalogue
from steam_sandbox.faults import FaultInjector
from steam_sandbox.igdb_query import QueryEngine
from steam_sandbox.igdb_store import IgdbStore
from steam_sandbox.knobs import Knobs
from steam_sandbox.limits import DailyCounter, InFlight, SlidingWindow
from steam_sandbox.stats import SandboxStats, StatsRecorder
from steam_sandbox.tokens import TokenRegistry
from steam_sandbox.users import Libraries, SandboxUsers, build_users, unvetted_listed

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Credentials:
    """Fixed credentials the sandbox accepts (never real ones)."""

    steam_api_key: str = "5A4DB0C3E1F2A3B4C5D6E7F8091A2B3C"
    igdb_client_id: str = "sbxclient7k2m9q4w8e1r5t3y6u0i2"
    igdb_client_secret: str = "sbxsecret5d8f2g6h1j4k7l9z3x0c2v"  # noqa: S105 - fake


CREDENTIALS: Final = Credentials()


class SandboxState:
    """Everything the routes read and the Python API or admin endpoints change at run time."""

    def __init__(
        self,
        *,
        seed: int = 42,
        knobs: Knobs | None = None,
        catalogue: Catalogue | None = None,
        pagination_rows: int = 0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.seed = seed
        self.catalogue = catalogue or shared_catalogue(
            CatalogueConfig(seed=seed, pagination_rows=pagination_rows)
        )
        self.users: SandboxUsers = build_users(
            with_pagination_app=self.catalogue.pagination_appid is not None,
            unvetted_apps=unvetted_listed(self.catalogue),
        )
        self.libraries = Libraries(self.catalogue, self.users)
        self.store = IgdbStore(self.catalogue.tables)
        self.store.index("external_games", "uid")  # the enrichment lookup; build it up front
        self.credentials = CREDENTIALS
        self.clock = clock
        self._initial_knobs = knobs or Knobs()
        self.knobs = self._initial_knobs
        self.stats = StatsRecorder()
        self.tokens = TokenRegistry(seed)
        self.faults = FaultInjector(seed)
        self.igdb_window = SlidingWindow()
        self.igdb_in_flight = InFlight()
        self.steam_window = SlidingWindow()
        self.steam_daily = DailyCounter()
        self.lock = threading.Lock()
        self._engines: dict[str, QueryEngine] = {}

    def set_knobs(self, updates: Mapping[str, Mapping[str, Any]]) -> Knobs:
        """Apply partial per-service knob updates (validated) and return the new knobs."""
        with self.lock:
            self.knobs = self.knobs.merged(updates)
            return self.knobs

    def replace_knobs(self, knobs: Knobs) -> None:
        """Swap in a whole new set of knobs."""
        with self.lock:
            self.knobs = knobs

    def reset(self, *, knobs: bool = True, stats: bool = True, limits: bool = True) -> None:
        """Restore the initial knobs, zero counters, clear limiters and restart fault RNGs."""
        with self.lock:
            if knobs:
                self.knobs = self._initial_knobs
            if limits:
                self.igdb_window.clear()
                self.steam_window.clear()
                self.steam_daily.clear()
                self.igdb_in_flight.peak = self.igdb_in_flight.current
                self.faults.reset()
                self.libraries.forget_purchases()
        if stats:
            self.stats.reset()

    def revoke_tokens(self) -> int:
        """Invalidate every Twitch token issued so far."""
        return self.tokens.revoke_all()

    def engine(self) -> QueryEngine:
        """The IGDB query engine for the current ``category_mode``."""
        mode = self.knobs.igdb.category_mode
        engine = self._engines.get(mode)
        if engine is None:
            engine = QueryEngine(self.store, mode)
            self._engines[mode] = engine
        return engine

    def snapshot(self) -> SandboxStats:
        """Counters, including the IGDB in-flight peak and today's Steam key usage."""
        with self.lock:
            peak = self.igdb_in_flight.peak
            used = self.steam_daily.used(self.credentials.steam_api_key)
        return self.stats.snapshot(in_flight_peak=peak, steam_daily_used=used)
