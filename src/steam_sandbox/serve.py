"""Runs the sandbox in the foreground for ``steam-import sandbox`` and describes it for humans."""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable, Sequence

from steam_sandbox.knobs import Knobs, parse_assignments
from steam_sandbox.server import Sandbox


def describe(sandbox: Sandbox) -> str:
    """Base URLs, users and ``export`` lines pointing the pipeline at ``sandbox`` (plain text)."""
    lines = [
        f"Sandbox listening on {sandbox.base_url} (seed {sandbox.state.seed})",
        f"  Steam Web API  {sandbox.steam_api_base_url}",
        f"  Twitch token   {sandbox.twitch_token_url}",
        f"  IGDB v4        {sandbox.igdb_api_base_url}",
        f"  Admin          {sandbox.base_url}/_sandbox/stats | /_sandbox/knobs | /_sandbox/reset",
        "",
        "Users (name, SteamID64, vanity, games a default fetch returns):",
    ]
    for user in sandbox.users:
        vanity = user.vanity or "-"
        lines.append(f"  {user.name:<16} {user.steamid64}  {vanity:<22} {user.expected_game_count}")
    lines += ["", "Point the pipeline at it:"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in sandbox.env().items()]
    return "\n".join(lines)


def serve_forever(
    *,
    port: int,
    seed: int,
    host: str = "127.0.0.1",
    knob_assignments: Sequence[str] = (),
    latency_ms: float | None = None,
    error_rate: float | None = None,
    rate_limit: bool = True,
    expires_in: int | None = None,
    pagination_rows: int = 0,
    on_ready: Callable[[str], None],
    stop: threading.Event | None = None,
) -> None:
    """Start the sandbox, hand its description to ``on_ready``, serve until Ctrl-C or ``stop``.

    ``latency_ms`` and ``error_rate`` apply to every service; ``knob_assignments`` are
    ``service.knob=value`` strings applied last. Invalid knobs raise ``ValueError``.
    """
    updates: dict[str, dict[str, object]] = {"all": {}}
    if latency_ms is not None:
        updates["all"]["latency_ms"] = latency_ms
    if error_rate is not None:
        updates["all"]["error_rate"] = error_rate
    updates["steam"] = {"rate_limit_enabled": rate_limit}
    updates["igdb"] = {"rate_limit_enabled": rate_limit}
    if expires_in is not None:
        updates["twitch"] = {"expires_in": expires_in}
    knobs = Knobs().merged(updates)
    for service, fields in parse_assignments(knob_assignments).items():
        knobs = knobs.merged({service: fields})
    stop = stop or threading.Event()
    with Sandbox(
        seed=seed, knobs=knobs, host=host, port=port, pagination_rows=pagination_rows
    ) as sb:
        on_ready(describe(sb))
        try:
            while not stop.wait(0.5):
                if sb.wait(0):
                    break
        except KeyboardInterrupt:
            return
