"""Local emulator of the Steam Web API, Twitch OAuth and IGDB v4 over a generated catalogue."""

from __future__ import annotations

from lambdas.sandbox.catalogue import Catalogue, CatalogueConfig, generate_catalogue
from lambdas.sandbox.knobs import IgdbKnobs, Knobs, ServiceKnobs, SteamKnobs, TwitchKnobs
from lambdas.sandbox.models import (
    AppKind,
    AppTruth,
    MatchSource,
    MatchStatus,
    OwnedGame,
    SandboxUser,
    SteamApp,
)
from lambdas.sandbox.serve import describe, serve_forever
from lambdas.sandbox.server import Sandbox, SandboxError
from lambdas.sandbox.stats import SandboxStats
from lambdas.sandbox.users import SandboxUsers

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
    "describe",
    "generate_catalogue",
    "serve_forever",
]
