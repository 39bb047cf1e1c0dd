"""Whether a live database fits a schema profile: what is missing (drift) and what is only slower.

Stage 3 runs this before writing. It needs only what the loader writes: the profile's tables and
columns, the enum labels it casts to, and the unique indexes its ON CONFLICT clauses name. Extra
tables, columns with defaults, indexes and enum labels are the app's business. A missing index
that only speeds things up is a warning, never drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from lambdas.database.profiles import StatusRule
from lambdas.database.tables import AppTables
from lambdas.models.app_enums import LibraryItemStatus
from lambdas.sql.dialect import Dialect

#: ON CONFLICT targets: (table attribute, columns) that must be unique in the live database.
_CONFLICT_TARGETS = (
    ("game", ("igdbId",)),
    ("genre", ("igdbId",)),
    ("platform", ("igdbId",)),
    ("game_genre", ("gameId", "genreId")),
    ("game_platform", ("gameId", "platformId")),
)
#: Indexes that only make stage 3 faster: (table attribute, leading columns, what it serves).
_HELPFUL_INDEXES = (
    ("imported", ("userId",), "finding the user's imported games"),
    ("library", ("gameId",), "finding the user's library items"),
)
#: The columns that name one Steam app of one user in ImportedGame.
_APP_ROW_KEY = frozenset({"userId", "storefront", "storefrontGameId"})
#: Enum labels the loader writes or compares, besides the status rule's.
_ENUM_LABELS = {
    "Storefront": ("STEAM",),
    "IgdbMatchStatus": ("PENDING", "MATCHED", "UNMATCHED", "IGNORED"),
}


@dataclass
class Fit:
    """How a live database fits a profile."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_fit(connection: Connection, tables: AppTables, rule: StatusRule) -> Fit:
    """Every difference that would break the loader (problems) or slow it (warnings)."""
    fit = Fit()
    inspector = inspect(connection)
    live_tables = set(inspector.get_table_names())
    wanted = {table.name: table for table in tables.all()}
    for name in wanted:
        if name not in live_tables:
            fit.problems.append(f'table "{name}" is missing')
    present = [name for name in wanted if name in live_tables]
    if not present:
        return fit
    columns = _by_table(inspector.get_multi_columns(filter_names=present))
    indexes = _by_table(inspector.get_multi_indexes(filter_names=present))
    uniques = _by_table(inspector.get_multi_unique_constraints(filter_names=present))
    keys = _by_table(inspector.get_multi_pk_constraint(filter_names=present))
    for name in present:
        fit.problems += _column_problems(wanted[name], columns.get(name, []))
    unique_sets = {
        name: [
            tuple(found.get("column_names") or [])
            for found in [*indexes.get(name, []), *uniques.get(name, [])]
            if found.get("unique", True)
        ]
        + [tuple(keys.get(name, {}).get("constrained_columns") or [])]
        for name in present
    }
    for attribute, key in _CONFLICT_TARGETS:
        table = getattr(tables, attribute)
        if table.name in unique_sets and key not in unique_sets[table.name]:
            fit.problems.append(
                f'"{table.name}": no unique index or key on {_cols(key)} (the loader upserts by it)'
            )
    for attribute, lead, purpose in _HELPFUL_INDEXES:
        table = getattr(tables, attribute)
        found = indexes.get(table.name, [])
        if table.name in unique_sets and not any(
            tuple(index.get("column_names") or [])[: len(lead)] == lead for index in found
        ):
            fit.warnings.append(
                f'"{table.name}": no index starting with {_cols(lead)} ({purpose} is slower)'
            )
    if "ImportedGame" in unique_sets and not any(
        _one_row_per_app(key) for key in unique_sets["ImportedGame"]
    ):
        fit.warnings.append(
            '"ImportedGame": no unique index on ("userId", "storefront", "storefrontGameId"); '
            "imports stay correct under a per-user lock (an optional Prisma migration that adds "
            "one ships in prisma/optional-migrations/)"
        )
    fit.problems += _enum_problems(connection, rule)
    return fit


def _one_row_per_app(key: tuple[str, ...]) -> bool:
    """Whether a unique key on ImportedGame allows one row per (user, storefront, app id) at
    most: the three columns, or a part of them that still holds the user and the app id, such as
    the ("userId", "storefrontGameId") index an earlier branch of the app's migrations adds."""
    return {"userId", "storefrontGameId"} <= set(key) <= _APP_ROW_KEY


def _by_table(reflected: Mapping[tuple[str | None, str], Any]) -> dict[str, Any]:
    return {table: value for (_schema, table), value in reflected.items()}


def _column_problems(table: Any, live: list[Any]) -> list[str]:
    by_name = {column["name"]: column for column in live}
    problems = [
        f'"{table.name}"."{column.name}": column is missing'
        for column in table.columns
        if column.name not in by_name
    ]
    for name, found in by_name.items():
        if name in table.columns or found["nullable"]:
            continue
        if found.get("default") is None and not found.get("autoincrement"):
            problems.append(
                f'"{table.name}"."{name}": NOT NULL column without a default that the loader '
                "does not write (inserts would fail)"
            )
    return problems


def _enum_problems(connection: Connection, rule: StatusRule) -> list[str]:
    dialect = Dialect.for_connection(connection)
    wanted = {**_ENUM_LABELS, "LibraryItemStatus": tuple(rule.labels())}
    if not dialect.postgresql:
        # SQLite has no enum types: the standalone schema's labels are the models'.
        wanted = {"LibraryItemStatus": wanted["LibraryItemStatus"]}
    problems: list[str] = []
    for name, labels in wanted.items():
        live = (
            dialect.enum_labels(connection, name)
            if dialect.postgresql
            else [status.value for status in LibraryItemStatus]
        )
        if live is None:
            problems.append(f'enum "{name}" is missing')
            continue
        missing = [label for label in labels if label not in live]
        if missing:
            problems.append(
                f'enum "{name}" lacks value(s) {", ".join(missing)} (live values: '
                f"{', '.join(live)}); for LibraryItemStatus check the LIBRARY_STATUS_* settings"
            )
    return problems


def _cols(columns: tuple[str, ...]) -> str:
    return "(" + ", ".join(f'"{column}"' for column in columns) + ")"
