"""`steam-import demo`: the whole pipeline against the in-process sandbox, on embedded defaults."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from lambdas.cli._app import app
from lambdas.cli._output import (
    JsonOption,
    call,
    is_terminal,
    load_settings,
    run_async,
    sandbox_module,
    stage_progress,
    stage_step,
    stdout,
)
from lambdas.cli._render import finish, waiting_for_review

DEMO_USER_ID = "demo-user"


class DemoUser(StrEnum):
    """`--user`: the sandbox's named libraries (shown as a choice in the help)."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    HUGE = "huge"


@app.command("demo")
def demo_command(
    user: Annotated[
        DemoUser, typer.Option("--user", help="Which sandbox user to import.")
    ] = DemoUser.MEDIUM,
    as_json: JsonOption = False,
) -> None:
    """Import a sandbox user's library end to end: no account, key or server needed.

    Starts the local emulator of Steam, Twitch and IGDB on a loopback port, stores files in the
    data folder and writes to the local SQLite database (unless S3_BUCKET / DATABASE_URL say
    otherwise), creates the user `demo-user`, and prints what the import did.
    """
    from lambdas.handlers._runtime import new_import_id
    from lambdas.pipeline import import_user_library, prepare_database
    from lambdas.stages import StageContext

    sandbox_package = call(sandbox_module, as_json=as_json)

    base = load_settings()
    with sandbox_package.Sandbox(seed=42) as sandbox:
        settings = load_settings(
            **{name.lower(): value for name, value in sandbox.env().items()},
            database_url=base.database_url,
        )
        context = call(lambda: StageContext.from_settings(settings), as_json=as_json)
        call(lambda: prepare_database(settings, context), as_json=as_json)
        account = sandbox.users.by_name(user.value)
        if not as_json:
            stdout.print(
                f"Sandbox at {sandbox.base_url}; importing [bold]{account.persona_name}[/] "
                f"({account.steamid64}) for user {DEMO_USER_ID}, database "
                f"{_shown_database(settings.resolved_database_url)}",
                highlight=False,
            )
        with stage_progress("Demo import", enabled=is_terminal() and not as_json) as progress:
            result = run_async(
                import_user_library(
                    context=context,
                    user_id=DEMO_USER_ID,
                    steam_account=str(account.steamid64),
                    import_id=new_import_id(),
                    create_user=True,
                    on_stage=lambda stage: progress(*stage_step(stage)),
                ),
                as_json=as_json,
            )
        need_review = None if as_json else waiting_for_review(result, context)
    title = f"Demo import of the sandbox's {user.value} library"
    finish(result, as_json=as_json, title=title, need_review=need_review)
    if not as_json:
        stdout.print(next_steps(need_review or 0), highlight=False, markup=False)


def next_steps(unmatched: int) -> str:
    """What to try after the demo, from the same folder; `search`, `link` and `keep` need the
    emulator, which stopped with the demo, so the line that brings it back is printed too."""
    user = DEMO_USER_ID
    return "\n".join(
        (
            "Next, from this folder (put ./run in front from a checkout):",
            f"  steam-import unmatched --user-id {user}   the {unmatched} games waiting for review",
            f"  steam-import filtered --user-id {user}    the apps left out as non-games",
            "search, link and keep ask IGDB, and the demo's emulator has stopped: run "
            "`steam-import sandbox` in another terminal and paste the export lines it prints "
            'here first; then e.g. steam-import search "<a name from unmatched>".',
        )
    )


def _shown_database(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
