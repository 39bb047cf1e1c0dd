"""`steam-import unmatched | link | ignore | filtered | keep | search | sync`: review and keeping
libraries fresh."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import urlsplit

import typer
from rich.table import Table

from lambdas.cli._app import app
from lambdas.cli._output import (
    JsonOption,
    UserIdOption,
    call,
    emit,
    fail,
    load_settings,
    require_existing_database,
    run_async,
    stdout,
)
from lambdas.config import Settings
from lambdas.errors import ConfigurationError, PipelineError, UpstreamUnavailableError
from lambdas.models.igdb import GameType

if TYPE_CHECKING:
    from lambdas.stages import StageContext

T = TypeVar("T")

AppIdOption = Annotated[int, typer.Option("--app-id", "-a", min=1, help="The Steam app id.")]

#: What `search`, `link` and `keep` add when IGDB is not there: after `steam-import demo` its
#: emulator has stopped, and these three ask IGDB.
EMULATOR_HINT = (
    "; after `steam-import demo`, whose emulator stops with it, run `steam-import sandbox` in "
    "another terminal and paste the export lines it prints here first"
)


def ask_igdb(settings: Settings, work: Callable[[], Coroutine[Any, Any, T]], *, as_json: bool) -> T:
    """Run a command that asks IGDB; when IGDB is not configured, or is a local emulator that
    is not running, the error says how to start one (the demo's stopped with the demo)."""
    try:
        settings.require_igdb_credentials()
    except ConfigurationError as exc:
        fail(_hinted(ConfigurationError(exc.message + EMULATOR_HINT), exc), as_json=as_json)
    try:
        return asyncio.run(work())
    except (UpstreamUnavailableError, ConfigurationError) as exc:
        local = any(
            urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")
            for url in (settings.igdb_api_base_url, settings.twitch_token_url)
        )
        refused = isinstance(exc, ConfigurationError) and "accepts connections" in exc.message
        if not local or not (refused or isinstance(exc, UpstreamUnavailableError)):
            fail(exc, as_json=as_json)
        hint = "; is the emulator running? Start it with `steam-import sandbox`"
        fail(_hinted(type(exc)(exc.message + hint), exc), as_json=as_json)
    except PipelineError as exc:
        fail(exc, as_json=as_json)


def _hinted(error: PipelineError, original: PipelineError) -> PipelineError:
    """`error` with `original` as its cause, so that --verbose still shows where it came from."""
    error.__cause__ = original
    return error


def _utc(moment: datetime) -> datetime:
    """The database keeps UTC without a zone (Prisma's timestamp(3)); say it is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _existing_context(*, as_json: bool) -> StageContext:
    """The stage context of a command that reads the local database or the one DATABASE_URL
    names; a local database that does not exist yet is refused, not created."""
    from lambdas.stages import StageContext

    settings = load_settings()
    call(lambda: require_existing_database(settings), as_json=as_json)
    return call(lambda: StageContext.from_settings(settings), as_json=as_json)


def game_type_name(game_type: int | None) -> str | None:
    """IGDB's `game_type` id in words (`main game`, `dlc addon`, …); an id this code does not
    know yet stays a number."""
    if game_type is None:
        return None
    try:
        return GameType(game_type).name.lower().replace("_", " ")
    except ValueError:
        return f"type {game_type}"


@app.command("unmatched")
def unmatched_command(user_id: UserIdOption, as_json: JsonOption = False) -> None:
    """The review list: imported games no IGDB game was matched to, with candidates."""
    from lambdas.review.service import list_unmatched

    context = _existing_context(as_json=as_json)
    games = call(
        lambda: list_unmatched(context.database(), context.storage, user_id=user_id),
        as_json=as_json,
    )
    if as_json:
        payload = [
            {
                "app_id": game.app_id,
                "name": game.name,
                "playtime": game.playtime,
                "imported_at": _utc(game.imported_at).isoformat(),
                "candidates": [candidate.model_dump() for candidate in game.candidates],
            }
            for game in games
        ]
        stdout.print_json(json.dumps({"success": True, "unmatched": payload}))
        return
    if not games:
        stdout.print(f"No games of {user_id} need review.", highlight=False)
        return
    table = Table(title=f"{len(games)} games need review")
    for column in (
        "app id",
        "name",
        "playtime",
        "imported (UTC)",
        "candidates (IGDB id: name, year)",
    ):
        table.add_column(column)
    for game in games:
        table.add_row(
            str(game.app_id),
            game.name,
            f"{game.playtime // 60} h {game.playtime % 60} min",
            f"{_utc(game.imported_at):%Y-%m-%d %H:%M}",
            "; ".join(
                f"{candidate.igdb_id}: {candidate.name}"
                + (f", {candidate.year}" if candidate.year else "")
                for candidate in game.candidates
            )
            or "—",
        )
    stdout.print(table)


@app.command("link")
def link_command(
    user_id: UserIdOption,
    app_id: AppIdOption,
    igdb_id: Annotated[int, typer.Option("--igdb-id", "-i", min=1, help="The IGDB game id.")],
    as_json: JsonOption = False,
) -> None:
    """Link an imported game to an IGDB game, exactly as if it had matched automatically."""
    from lambdas.clients.igdb import IgdbClient
    from lambdas.review.service import LinkResult, link_game

    context = _existing_context(as_json=as_json)
    settings = context.settings

    async def link() -> LinkResult:
        async with IgdbClient.from_settings(settings) as igdb:
            return await link_game(
                context.database(),
                igdb,
                user_id=user_id,
                app_id=app_id,
                igdb_id=igdb_id,
                settings=settings,
            )

    result = ask_igdb(settings, link, as_json=as_json)
    emit(
        {"success": True, "user_id": user_id, **asdict(result)},
        as_json=as_json,
        human=lambda: stdout.print(
            f"Linked app {app_id} to IGDB game {igdb_id} ({result.title})"
            + ("; added to the library." if result.library_item_created else "."),
            highlight=False,
        ),
    )


@app.command("ignore")
def ignore_command(user_id: UserIdOption, app_id: AppIdOption, as_json: JsonOption = False) -> None:
    """Ignore an imported game: it never enters the library, now or on later imports."""
    from lambdas.review.service import ignore_game

    context = _existing_context(as_json=as_json)
    call(lambda: ignore_game(context.database(), user_id=user_id, app_id=app_id), as_json=as_json)
    emit(
        {"success": True, "user_id": user_id, "app_id": app_id, "status": "IGNORED"},
        as_json=as_json,
        human=lambda: stdout.print(f"App {app_id} is ignored for {user_id}."),
    )


@app.command("filtered")
def filtered_command(user_id: UserIdOption, as_json: JsonOption = False) -> None:
    """The apps the last import left out as non-games, with kind and the reason for it."""
    from lambdas.review.filtered import list_filtered_apps

    context = _existing_context(as_json=as_json)
    apps = call(lambda: list_filtered_apps(context.database(), user_id=user_id), as_json=as_json)
    if as_json:
        payload = [
            {
                "app_id": found.app_id,
                "name": found.name,
                "kind": found.kind,
                "reason": found.reason,
                "steam_type": found.steam_type,
                "playtime": found.raw.playtime_forever,
                "recorded_at": _utc(found.recorded_at).isoformat(),
            }
            for found in apps
        ]
        stdout.print_json(json.dumps({"success": True, "filtered": payload}))
        return
    table = Table(title=f"{len(apps)} apps filtered as non-games (undo one with `keep`)")
    for column in ("app id", "name", "kind", "reason", "playtime"):
        table.add_column(column)
    for found in apps:
        minutes = found.raw.playtime_forever
        table.add_row(
            str(found.app_id),
            found.name,
            found.kind.lower().replace("_", " "),
            found.reason,
            f"{minutes // 60} h {minutes % 60} min",
        )
    stdout.print(table)


@app.command("wishlist")
def wishlist_command(user_id: UserIdOption, as_json: JsonOption = False) -> None:
    """The user's Steam wishlist as the last import saw it: each app's priority and decision."""
    from lambdas.review.filtered import list_wishlisted_apps

    context = _existing_context(as_json=as_json)
    apps = call(lambda: list_wishlisted_apps(context.database(), user_id=user_id), as_json=as_json)
    if as_json:
        payload = [
            {
                "app_id": found.app_id,
                "name": found.name,
                "priority": found.priority,
                "decision": found.decision,
                "igdb_id": found.igdb_id,
                "date_added": _utc(found.date_added).isoformat() if found.date_added else None,
            }
            for found in apps
        ]
        stdout.print_json(json.dumps({"success": True, "wishlist": payload}))
        return
    table = Table(title=f"{len(apps)} wishlisted apps, by priority")
    for column in ("priority", "app id", "name", "decision"):
        table.add_column(column)
    for found in apps:
        table.add_row(str(found.priority), str(found.app_id), found.name, found.decision)
    stdout.print(table)


@app.command("keep")
def keep_command(user_id: UserIdOption, app_id: AppIdOption, as_json: JsonOption = False) -> None:
    """Make a filtered app a game for good: matched or left for review like any other game."""
    from lambdas.clients.igdb import IgdbClient
    from lambdas.review.filtered import KeepResult, keep_filtered_app

    context = _existing_context(as_json=as_json)
    settings = context.settings

    async def keep() -> KeepResult:
        async with IgdbClient.from_settings(settings) as igdb:
            return await keep_filtered_app(
                context.database(),
                igdb,
                user_id=user_id,
                app_id=app_id,
                settings=settings,
                storage=context.storage,
            )

    result = ask_igdb(settings, keep, as_json=as_json)
    emit(
        {"success": True, "user_id": user_id, **asdict(result)},
        as_json=as_json,
        human=lambda: stdout.print(
            f"App {app_id} ({result.name}) is a game for {user_id} from now on: "
            + {
                "MATCHED": f"matched to IGDB game {result.igdb_id}"
                + ("; added to the library." if result.library_item_created else "."),
                "UNMATCHED": "no IGDB match yet; see `unmatched`.",
            }.get(result.status, "already kept."),
            highlight=False,
        ),
    )


@app.command("search")
def search_command(
    title: Annotated[str, typer.Argument(help="The game's title.")],
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=50, help="How many candidates at most (1-50).")
    ] = 10,
    as_json: JsonOption = False,
) -> None:
    """IGDB candidates for a title, to pick the id for `link`."""
    from lambdas.clients.igdb import IgdbClient
    from lambdas.review.service import search_candidates

    settings = load_settings()

    async def search() -> list[dict[str, object]]:
        async with IgdbClient.from_settings(settings) as igdb:
            games = await search_candidates(igdb, title, limit=limit)
        return [
            {
                "igdb_id": game.id,
                "name": game.name,
                "year": game.release_year,
                "game_type": game.game_type,
                "game_type_name": game_type_name(game.game_type),
                "slug": game.slug,
            }
            for game in games
        ]

    found = ask_igdb(settings, search, as_json=as_json)
    if as_json:
        stdout.print_json(json.dumps({"success": True, "results": found}))
        return
    table = Table(title=f"IGDB results for {title!r}")
    for column in ("IGDB id", "name", "year", "type"):
        table.add_column(column)
    for item in found:
        table.add_row(
            *(
                str(item[key]) if item[key] is not None else "—"
                for key in ("igdb_id", "name", "year", "game_type_name")
            )
        )
    stdout.print(table)


@app.command("sync")
def sync_command(as_json: JsonOption = False) -> None:
    """Re-import every user with a Steam account connected; one failure stops none."""
    from lambdas.handlers._runtime import new_import_id
    from lambdas.sync.service import sync_all

    context = _existing_context(as_json=as_json)
    summary = run_async(sync_all(context=context, new_import_id=new_import_id), as_json=as_json)
    if as_json:
        stdout.print_json(
            json.dumps(
                {
                    "success": summary.failed == 0,
                    "users": len(summary.results),
                    "failed": summary.failed,
                    "results": [result.as_dict() for result in summary.results],
                },
                default=str,
            )
        )
    else:
        table = Table(title=f"Sync: {summary.succeeded} of {len(summary.results)} users imported")
        for column in ("user", "result", "games", "new in library"):
            table.add_column(column)
        for result in summary.results:
            failed = result.failed
            steam = result.as_dict()["stages"].get("steam", {})
            load = result.as_dict()["stages"].get("load", {})
            table.add_row(
                result.user_id,
                "ok" if failed is None else f"{failed.response.error_code}",
                str(steam.get("game_count", "—")),
                str(load.get("stats", {}).get("library_items_created", "—")),
            )
        stdout.print(table)
    if summary.failed:
        raise typer.Exit(1)
