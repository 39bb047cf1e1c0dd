"""`steam-import steam | enrich | load | run`: the stages one by one, or all three."""

from __future__ import annotations

from lambdas.cli._app import app
from lambdas.cli._output import (
    JsonOption,
    LocationOption,
    SteamOption,
    UserIdOption,
    call,
    emit,
    is_terminal,
    load_settings,
    run_async,
    stage_progress,
    stdout,
    utc_now,
)


@app.command("steam")
def steam_command(
    user_id: UserIdOption,
    steam: SteamOption,
    as_json: JsonOption = False,
) -> None:
    """Stage 1: fetch a Steam library and store it as a raw CSV; prints its location."""
    from lambdas.clients.s3 import storage_from_settings
    from lambdas.handlers._runtime import new_import_id
    from lambdas.services.steam_import import import_steam_library

    settings = load_settings()
    result = run_async(
        import_steam_library(
            user_id=user_id,
            account=steam,
            settings=settings,
            storage=call(lambda: storage_from_settings(settings), as_json=as_json),
            now=utc_now(),
            import_id=new_import_id(),
        ),
        as_json=as_json,
    )
    emit(
        {
            "success": True,
            "user_id": user_id,
            "s3_location": result.location,
            "game_count": result.game_count,
            "steam_id64": str(result.steam_id64),
        },
        as_json=as_json,
        human=lambda: stdout.print(
            f"Stored [bold]{result.game_count}[/] games of "
            f"{result.persona_name or result.steam_id64} at {result.location}",
            highlight=False,
        ),
    )


@app.command("enrich")
def enrich_command(
    user_id: UserIdOption,
    location: LocationOption,
    as_json: JsonOption = False,
) -> None:
    """Stage 2: classify the apps of a raw CSV, match games to IGDB, store the enriched CSV."""
    from lambdas.clients.s3 import storage_from_settings
    from lambdas.services.enrichment import enrich_library

    settings = load_settings()
    storage = call(lambda: storage_from_settings(settings), as_json=as_json)
    with stage_progress("Enriching", enabled=is_terminal() and not as_json) as progress:
        result = run_async(
            enrich_library(
                user_id=user_id,
                location=location,
                settings=settings,
                storage=storage,
                now=utc_now(),
                progress=progress,
            ),
            as_json=as_json,
        )
    stats = result.stats
    emit(
        {
            "success": True,
            "user_id": user_id,
            "s3_enriched_location": result.location,
            "stats": stats.model_dump(),
        },
        as_json=as_json,
        human=lambda: stdout.print(
            f"{stats.processed} apps: [green]{stats.matched} matched[/] "
            f"({stats.matched_by_title} by title), [yellow]{stats.unmatched} need review[/], "
            f"{stats.filtered} filtered as non-games; stored at {result.location}",
            highlight=False,
        ),
    )
