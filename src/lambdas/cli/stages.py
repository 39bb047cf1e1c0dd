"""`steam-import steam | enrich | load | run`: the stages one by one, or all three."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

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
    stage_step,
    stdout,
    steam_account,
    utc_now,
)
from lambdas.cli._render import UNVERIFIED_NOTE, finish, waiting_for_review
from lambdas.pipeline import Stage


@app.command("steam")
def steam_command(
    user_id: UserIdOption,
    steam: SteamOption,
    as_json: JsonOption = False,
) -> None:
    """Stage 1: fetch a Steam library and store it as a raw CSV; prints its location."""
    from lambdas.clients.budget import within_budget
    from lambdas.clients.s3 import storage_from_settings
    from lambdas.handlers._runtime import new_import_id
    from lambdas.steam.library import import_steam_library

    steam_account(steam, as_json=as_json)
    settings = load_settings()
    result = run_async(
        within_budget(
            settings.stage_time_budget_seconds,
            import_steam_library(
                user_id=user_id,
                account=steam,
                settings=settings,
                storage=call(lambda: storage_from_settings(settings), as_json=as_json),
                now=utc_now(),
                import_id=new_import_id(),
            ),
        ),
        as_json=as_json,
    )
    emit(
        {
            "success": True,
            "user_id": user_id,
            "location": result.location,  # what `enrich --location` takes
            "s3_location": result.location,  # the same, under stage 1's response key (kept)
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
    from lambdas.clients.budget import within_budget
    from lambdas.clients.s3 import storage_from_settings
    from lambdas.enrichment.enrich import enrich_library

    settings = load_settings()
    storage = call(lambda: storage_from_settings(settings), as_json=as_json)
    with stage_progress("Enriching", enabled=is_terminal() and not as_json) as progress:
        result = run_async(
            within_budget(
                settings.stage_time_budget_seconds,
                enrich_library(
                    user_id=user_id,
                    location=location,
                    settings=settings,
                    storage=storage,
                    now=utc_now(),
                    progress=progress,
                ),
            ),
            as_json=as_json,
        )
    stats = result.stats
    emit(
        {
            "success": True,
            "user_id": user_id,
            "location": result.location,  # what `load --location` takes
            "s3_enriched_location": result.location,  # stage 2's response key (kept)
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


EnrichedLocationOption = Annotated[
    str,
    typer.Option("--location", "-l", help="The enriched CSV stage 2 stored (s3://… or a path)."),
]


@app.command("load")
def load_command(
    user_id: UserIdOption,
    location: EnrichedLocationOption,
    mode: ModeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stage 3: write an enriched CSV into the app's database in one transaction."""
    from lambdas.models.events import DatabaseImportEvent
    from lambdas.stages import StageContext, database_stage

    event = call(
        lambda: DatabaseImportEvent.parse(
            {"user_id": user_id, "s3_enriched_location": location}, stage="database_import"
        ),
        as_json=as_json,
    )
    settings = load_settings(**_with_mode(mode))
    context = call(lambda: StageContext.from_settings(settings), as_json=as_json)
    response = run_async(database_stage(event, context), as_json=as_json)
    stats = response.stats

    def human() -> None:
        stdout.print(
            f"Imported games: {stats.imported_games_created} new, "
            f"{stats.imported_games_updated} updated; games: {stats.games_created} new, "
            f"{stats.games_updated} updated; library items: {stats.library_items_created} new",
            highlight=False,
        )
        if not stats.catalogue_verified:
            stdout.print(UNVERIFIED_NOTE, highlight=False)

    emit(response.model_dump(mode="json"), as_json=as_json, human=human)


class Mode(StrEnum):
    """`--mode`: IMPORT_MODE for this run."""

    LIBRARY = "library"
    CURATE = "curate"


ModeOption = Annotated[
    Mode | None,
    typer.Option(
        "--mode",
        help="library: matched games become library items; curate: the user adds them in the "
        "app (default IMPORT_MODE, else library).",
        show_default=False,
    ),
]


def _with_mode(mode: Mode | None) -> dict[str, str]:
    return {"import_mode": mode.value} if mode else {}


FromStageOption = Annotated[
    Stage,
    typer.Option("--from-stage", help="Resume at this stage from a stored --location."),
]


@app.command("run")
def run_command(
    user_id: UserIdOption,
    steam: Annotated[
        str | None,
        typer.Option(
            "--steam",
            "-s",
            help="SteamID64, STEAM_X:Y:Z, [U:1:N], profile URL or custom URL name.",
        ),
    ] = None,
    create_user: Annotated[
        bool, typer.Option("--create-user", help="Create the user first (standalone use).")
    ] = False,
    refresh_metadata: Annotated[
        bool,
        typer.Option("--refresh-metadata", help="Ask IGDB again for every game, reusing nothing."),
    ] = False,
    relink: Annotated[
        bool,
        typer.Option("--relink", help="Replace the user's linked Steam account with --steam."),
    ] = False,
    from_stage: FromStageOption = Stage.STEAM,
    location: Annotated[
        str | None,
        typer.Option("--location", "-l", help="With --from-stage: the stored CSV to resume from."),
    ] = None,
    mode: ModeOption = None,
    as_json: JsonOption = False,
) -> None:
    """The whole import: Steam → IGDB matching → database, as the state machine runs it."""
    from lambdas.handlers._runtime import new_import_id
    from lambdas.pipeline import import_user_library, prepare_database, run_pipeline
    from lambdas.stages import StageContext

    if from_stage is Stage.STEAM and steam is None:
        raise typer.BadParameter("--steam is required (unless resuming with --from-stage)")
    if from_stage is not Stage.STEAM and location is None:
        raise typer.BadParameter("--from-stage needs the --location to resume from")
    if steam is not None:
        steam_account(steam, as_json=as_json)
    settings = load_settings(**_with_mode(mode))
    context = call(lambda: StageContext.from_settings(settings), as_json=as_json)
    call(lambda: prepare_database(settings, context), as_json=as_json)
    with stage_progress("Importing", enabled=is_terminal() and not as_json) as progress:
        if from_stage is Stage.STEAM:
            assert steam is not None
            result = run_async(
                import_user_library(
                    context=context,
                    user_id=user_id,
                    steam_account=steam,
                    import_id=new_import_id(),
                    create_user=create_user,
                    refresh_metadata=refresh_metadata,
                    relink=relink,
                    on_stage=lambda stage: progress(*stage_step(stage)),
                ),
                as_json=as_json,
            )
        else:
            key = "s3_location" if from_stage is Stage.ENRICH else "s3_enriched_location"
            result = run_async(
                run_pipeline(
                    first_event={
                        "user_id": user_id,
                        key: location,
                        "refresh_metadata": refresh_metadata,
                    },
                    context=context,
                    import_id=new_import_id(),
                    from_stage=from_stage,
                    on_stage=lambda stage: progress(*stage_step(stage)),
                ),
                as_json=as_json,
            )
    need_review = None if as_json else waiting_for_review(result, context)
    finish(result, as_json=as_json, title=f"Steam import for {user_id}", need_review=need_review)
