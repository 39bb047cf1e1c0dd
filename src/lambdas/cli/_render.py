"""Human renderings of pipeline results: the summary table `run`, `demo` and `sync` print."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from lambdas.cli._output import exit_code_of, stderr, stdout, verbosity
from lambdas.enrichment.precedence import SILENT, by_weaker_evidence
from lambdas.pipeline import PipelineResult, Stage

if TYPE_CHECKING:
    from lambdas.stages import StageContext

#: What `load` and `run` say when the enriched CSV's signature did not verify.
UNVERIFIED_NOTE = (
    "[yellow]This enriched CSV is not signed by this pipeline's key (made by hand, edited, another "
    "user's, or signed with another key): only this user's own rows were written, no Game, Genre "
    "or Platform. Run stage 2 (`steam-import enrich`) again to import its games.[/]"
)
#: The stages as a person names them: the commands that run them one by one (docs/architecture.md
#: maps these to the Lambda functions and the state machine's states).
_STAGE_TITLES = {stage: f"stage {number} ({stage.value})" for number, stage in enumerate(Stage, 1)}


def print_import_summary(
    result: PipelineResult, *, title: str, need_review: int | None = None
) -> None:
    """What an import did, in the words of the person who started it.

    Every indented block adds up to the line above it: the library's apps are matched, unmatched
    or filtered; the games (matched + unmatched) were decided this run or reused from the last
    import; the filtered apps are split once by kind and once by what decided it. Nothing is
    printed when no stage succeeded (the error says it all). `need_review` is what `unmatched`
    lists after the import: fewer than stage 2's unmatched when the user linked or ignored
    some of them (their verdicts are reused, the user's decisions kept).
    """
    print_error(result)
    steam = result.response(Stage.STEAM)
    enrich = result.response(Stage.ENRICH)
    load = result.response(Stage.LOAD)
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    counted = False
    if steam is not None and steam.success:
        table.add_row("apps in the Steam library", str(steam.game_count))
        counted = True
    if enrich is not None and enrich.success:
        counted = True
        stats = enrich.stats
        games = stats.matched + stats.unmatched
        table.add_row(
            "  games matched to IGDB", f"{stats.matched} ({stats.matched_by_title} by title)"
        )
        table.add_row("  games unmatched", str(stats.unmatched))
        table.add_row("  filtered as non-games", str(stats.filtered))
        table.add_section()
        table.add_row("games (matched + unmatched)", str(games))
        table.add_row("  decided this run", str(games - stats.reused))
        table.add_row("  reused from the last import (not asked again)", str(stats.reused))
        table.add_row("IGDB requests", str(stats.igdb_requests))
        if stats.filtered:
            table.add_section()
            table.add_row("filtered as non-games, by kind", str(stats.filtered))
            for kind, count in stats.filtered_by_kind.items():
                table.add_row(f"  {kind.lower().replace('_', ' ')}", str(count))
            table.add_row("filtered as non-games, decided by", str(stats.filtered))
            for source, count in _by_source(stats.filtered_by_reason).items():
                table.add_row(f"  {source}", str(count))
            weaker = sum(
                count
                for reason, count in stats.filtered_by_reason.items()
                if by_weaker_evidence(reason)
            )
            table.add_row("filtered by weaker evidence than a type (see `filtered`)", str(weaker))
    if load is not None and load.success:
        counted = True
        table.add_section()
        table.add_row("imported games created", str(load.stats.imported_games_created))
        table.add_row("imported games updated", str(load.stats.imported_games_updated))
        table.add_row("added to the library", str(load.stats.library_items_created))
        if not load.stats.catalogue_verified:
            table.add_row("games, genres, platforms", "[yellow]not written: unsigned CSV[/]")
        if need_review is not None:
            table.add_row("games waiting for review (`unmatched`)", str(need_review))
    if not counted:
        return
    table.add_section()
    for run in result.runs:
        table.add_row(f"time: {_STAGE_TITLES[run.stage]}", f"{run.seconds:.2f} s")
    stdout.print(table)


def print_error(result: PipelineResult) -> None:
    """The failed stage's error, one line on stderr (nothing when every stage succeeded)."""
    failed = result.failed
    if failed is not None:
        stderr.print(
            f"[bold red]error[/] [red]{failed.response.error_code}[/] in "
            f"{_STAGE_TITLES[failed.stage]}: {failed.response.error}",
            highlight=False,
        )


def _by_source(by_reason: dict[str, int]) -> dict[str, int]:
    """Filtered counts per deciding source: reasons read `steam_type=4`, `igdb_game_type=1`,
    `name:demo`, `steam_type=0 + name:playtest` (a name overriding the store's "game"), or
    `steam_type=0 + igdb silent + name:demo + store_parent` (clues weighed, neither authority
    having decided)."""
    sources: dict[str, int] = {}
    for reason, count in by_reason.items():
        if reason.startswith("steam_type=0 + name:"):
            source = "name over Steam's game type"
        elif SILENT in reason:
            source = "clues where Steam says game and IGDB is silent"
        elif reason.startswith("steam_type="):
            source = "Steam store type"
        elif reason.startswith(("igdb", "igdb_game_type")):
            source = "IGDB game type" if "name:" not in reason else "name over IGDB"
        else:
            source = "name alone"
        sources[source] = sources.get(source, 0) + count
    return sources


def waiting_for_review(result: PipelineResult, context: StageContext) -> int | None:
    """How many games `unmatched` lists after a successful import (None after a failed one)."""
    from lambdas.errors import PipelineError
    from lambdas.review.service import list_unmatched

    if not result.success:
        return None
    try:
        return len(list_unmatched(context.database(), context.storage, user_id=result.user_id))
    except PipelineError:
        return None


def finish(
    result: PipelineResult, *, as_json: bool, title: str, need_review: int | None = None
) -> None:
    """Print a pipeline result and exit with the failed stage's code (0 on success)."""
    failed = result.failed
    if as_json:
        stdout.print_json(json.dumps(result.as_dict(), default=str))
    elif failed is not None and verbosity.quiet:
        print_error(result)  # --quiet: the error alone, no partial summary
    else:
        print_import_summary(result, title=title, need_review=need_review)
    if failed is not None:
        raise typer.Exit(exit_code_of(failed.response.error_code, transient=failed.transient))
