"""Local emulator of the Steam Web API, Twitch OAuth and IGDB v4 over a generated catalogue."""

from __future__ import annotations

from steam_sandbox.catalogue import Catalogue, CatalogueConfig, generate_catalogue
from steam_sandbox.knobs import IgdbKnobs, Knobs, ServiceKnobs, SteamKnobs, TwitchKnobs
from steam_sandbox.models import (
    AppKind,
    AppTruth,
    MatchSource,
    MatchStatus,
    OwnedGame,
    SandboxUser,
    SteamApp,
    WishlistEntry,
)
from steam_sandbox.serve import describe, serve_forever
from steam_sandbox.server import Sandbox, SandboxError
from steam_sandbox.stats import SandboxStats
from steam_sandbox.users import SandboxUsers

__all__ = [
    "AppKind",
    "AppTruth",
    "Catalogue",
    "CatalogueConfig",
    "IgdbKnobs",
    "Knobs",
    "MatchSource",
    "MatchStatus",
    "OwnedGame",
    "Sandbox",
    "SandboxError",
    "SandboxStats",
    "SandboxUser",
    "SandboxUsers",
    "ServiceKnobs",
    "SteamApp",
    "SteamKnobs",
    "TwitchKnobs",
    "WishlistEntry",
    "describe",
    "generate_catalogue",
    "serve_forever",
]
