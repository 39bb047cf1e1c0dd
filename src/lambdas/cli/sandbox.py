"""`steam-import sandbox`: run the local Steam / Twitch / IGDB emulator."""

from __future__ import annotations

from typing import Annotated

import typer

from lambdas.cli._app import app
from lambdas.cli._output import call, sandbox_module, stderr, stdout


@app.command("sandbox")
def sandbox_command(
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port to listen on (0 = any free port).")
    ] = 8765,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated world.")] = 42,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    latency_ms: Annotated[
        float | None, typer.Option("--latency-ms", help="Added latency, every service.")
    ] = None,
    error_rate: Annotated[
        float | None, typer.Option("--error-rate", help="Share of requests answered 5xx.")
    ] = None,
    token_expires_in: Annotated[
        int | None, typer.Option("--token-expires-in", help="Twitch token lifetime (s).")
    ] = None,
    rate_limit: Annotated[
        bool, typer.Option("--rate-limit/--no-rate-limit", help="Steam and IGDB rate limits.")
    ] = True,
    pagination_rows: Annotated[
        int,
        typer.Option("--pagination-rows", help="Give one app this many IGDB rows (0 = off)."),
    ] = 0,
    knob: Annotated[
        list[str] | None,
        typer.Option(
            "--knob",
            "-k",
            metavar="KNOB",
            help="service.knob=value (repeatable), e.g. igdb.latency_ms=100.",
        ),
    ] = None,
) -> None:
    """Run the local Steam / Twitch / IGDB emulator until Ctrl-C; prints URLs, users, exports."""
    sandbox_package = call(sandbox_module, as_json=False)
    try:
        sandbox_package.serve_forever(
            port=port,
            seed=seed,
            host=host,
            knob_assignments=knob or (),
            latency_ms=latency_ms,
            error_rate=error_rate,
            rate_limit=rate_limit,
            expires_in=token_expires_in,
            pagination_rows=pagination_rows,
            on_ready=lambda text: stdout.print(text, highlight=False, markup=False, soft_wrap=True),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    except sandbox_package.SandboxError as exc:
        stderr.print(f"[bold red]error[/]: {exc}", highlight=False)
        raise typer.Exit(1) from exc
