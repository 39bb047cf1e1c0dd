"""Schema profiles: which app schema a live database has, and what stage 3 may write into it.

A profile is data: table names, the optional columns and tables it has, the LibraryItem platform
and status rule, and whether this project owns the schema. One loader serves every profile.
Detection uses reflection only: the users table's name (`user` today, `User` before), and
whether this project's Alembic version is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from lambdas.errors import ConfigurationError
from lambdas.state.schema import OWN_SCHEMA


class ProfileName(StrEnum):
    STANDALONE = "standalone"
    SAVEPOINT_2025 = "savepoint-2025"
    SAVEPOINT_2026 = "savepoint-2026"


class ImportMode(StrEnum):
    """`library`: matched games become library items; `curate`: the app's own flow, where the
    user adds ImportedGame rows to the library in the app."""

    LIBRARY = "library"
    CURATE = "curate"


#: ImportedGame columns the seed-era app lacks (added by the app on 2026-01-19).
PLATFORM_PLAYTIME_COLUMNS = ("lastPlayedAt", "playtimeWindows", "playtimeMac", "playtimeLinux")


@dataclass(frozen=True)
class Profile:
    """What one schema looks like to stage 3."""

    name: ProfileName
    users_table: str
    #: False when the app (Prisma) owns the schema: `db upgrade` refuses, nothing is altered.
    owned_by_us: bool
    imported_columns: tuple[str, ...]
    #: The app's per-user name blocklist, `IgnoredImportedGames`, exists.
    ignored_names: bool
    #: The LibraryItem platform; None: where the user played most (`payloads.choose_platform`).
    library_platform: str | None
    #: Playthrough exists (today's app); stage 3 writes none, as the app's own import writes none.
    has_playthrough: bool


PROFILES: Mapping[ProfileName, Profile] = {
    ProfileName.STANDALONE: Profile(
        name=ProfileName.STANDALONE,
        users_table="User",
        owned_by_us=True,
        imported_columns=PLATFORM_PLAYTIME_COLUMNS,
        ignored_names=False,
        library_platform=None,
        has_playthrough=False,
    ),
    ProfileName.SAVEPOINT_2025: Profile(
        name=ProfileName.SAVEPOINT_2025,
        users_table="User",
        owned_by_us=False,
        imported_columns=(),
        ignored_names=True,
        library_platform=None,
        has_playthrough=False,
    ),
    ProfileName.SAVEPOINT_2026: Profile(
        name=ProfileName.SAVEPOINT_2026,
        users_table="user",
        owned_by_us=False,
        imported_columns=PLATFORM_PLAYTIME_COLUMNS,
        ignored_names=True,
        # The app's own add-to-library writes this platform string for a Steam game.
        library_platform="PC (Microsoft Windows)",
        has_playthrough=True,
    ),
}


def profile_named(name: str) -> Profile:
    """The profile called `name` (an APP_SCHEMA value other than `auto`)."""
    try:
        return PROFILES[ProfileName(name)]
    except ValueError:
        choices = ", ".join(["auto", *(p.value for p in ProfileName)])
        raise ConfigurationError(f"APP_SCHEMA must be one of {choices}, not {name!r}") from None


def detect_profile(connection: Connection) -> Profile:
    """The profile the live database has, by reflection.

    SQLite, an empty database, and one whose Alembic version this project recorded are
    standalone; a `"user"` table is today's app; a `"User"` table without our version is the
    seed-era app.
    """
    if connection.dialect.name != "postgresql":
        return PROFILES[ProfileName.STANDALONE]
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    if "user" in tables:
        return PROFILES[ProfileName.SAVEPOINT_2026]
    ours = "alembic_version" in tables or inspector.has_table("alembic_version", OWN_SCHEMA)
    if "User" in tables and not ours:
        return PROFILES[ProfileName.SAVEPOINT_2025]
    return PROFILES[ProfileName.STANDALONE]


def resolve_profile(connection: Connection, setting: str) -> Profile:
    """The profile APP_SCHEMA names, or the detected one for `auto`."""
    return detect_profile(connection) if setting == "auto" else profile_named(setting)


@dataclass(frozen=True)
class StatusRule:
    """The status of a new LibraryItem: `unplayed` with no playtime; `playing` when last played
    within `recent_days` (when set); else `played`. The app's smart status is
    SHELF with no playtime, PLAYING when played within 7 days, else SHELF."""

    unplayed: str
    played: str
    playing: str | None = None
    recent_days: float = 7.0

    def labels(self) -> list[str]:
        """Every status this rule can write (each must be a live enum label)."""
        return list(dict.fromkeys(s for s in (self.unplayed, self.played, self.playing) if s))

    def status(self, *, playtime: int, last_played: datetime | None, now: datetime) -> str:
        if playtime <= 0:
            return self.unplayed
        recent = last_played is not None and now - last_played <= timedelta(days=self.recent_days)
        if self.playing and recent:
            return self.playing
        return self.played


#: The rule for each status enum the app has had, keyed by a label only
#: that enum has: seed era, early 2026 (WANT_TO_PLAY…), today (SHELF…).
_KNOWN_ENUMS: Sequence[tuple[str, StatusRule]] = (
    ("SHELF", StatusRule(unplayed="SHELF", played="SHELF", playing="PLAYING")),
    ("OWNED", StatusRule(unplayed="OWNED", played="OWNED", playing="PLAYING")),
    ("CURIOUS_ABOUT", StatusRule(unplayed="CURIOUS_ABOUT", played="EXPERIENCED")),
)


def status_rule(
    live_labels: Sequence[str] | None,
    *,
    unplayed: str | None = None,
    played: str | None = None,
    playing: str | None = None,
    recent_days: float = 7.0,
) -> StatusRule:
    """The status rule for the live enum's labels, with any configured status overriding it.

    `live_labels` None (SQLite: no enum types) means the standalone schema's seed-era labels.
    An enum this project does not know and no configured statuses is a ConfigurationError.
    """
    labels = list(live_labels) if live_labels is not None else ["CURIOUS_ABOUT", "EXPERIENCED"]
    base = next((rule for key, rule in _KNOWN_ENUMS if key in labels), None)
    if base is None and not (unplayed and played):
        raise ConfigurationError(
            "the live LibraryItemStatus enum ("
            + ", ".join(labels)
            + ") is not one this pipeline knows; set LIBRARY_STATUS_UNPLAYED and "
            "LIBRARY_STATUS_PLAYED"
        )
    return StatusRule(
        unplayed=unplayed or (base.unplayed if base else ""),
        played=played or (base.played if base else ""),
        playing=(playing or None) if playing is not None else (base.playing if base else None),
        recent_days=recent_days,
    )
