"""Compare a live database with the models in `lambdas.models.db` and describe every difference."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Enum, Table, inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine.reflection import Inspector

from lambdas.models.db import LibraryItemStatus, metadata

#: Enums whose values the app owns and may rename; only the configured values must exist.
APP_OWNED_ENUMS = frozenset({LibraryItemStatus.__name__})


def find_drift(
    connection: Connection,
    *,
    library_statuses: Sequence[str],
    warnings: list[str] | None = None,
) -> list[str]:
    """Every way the live schema would break the writer, as readable one-line messages.

    Reported: missing tables and columns, other types, other nullability, extra NOT NULL columns
    without a default (inserts would fail), missing or different primary keys, indexes, unique
    indexes and foreign keys, missing enum types or values, and configured LibraryItem statuses
    the live enum lacks. Extra tables, nullable columns, indexes and enum values are the app's
    business and not reported. With a `warnings` list, a missing or different plain index (it
    only speeds things up) goes there instead of into the problems.
    """
    inspector = inspect(connection)
    live_tables = set(inspector.get_table_names())
    tables = [table for table in metadata.sorted_tables]
    problems = [f'table "{t.name}" is missing' for t in tables if t.name not in live_tables]
    present = [table for table in tables if table.name in live_tables]
    names = [table.name for table in present]
    if names:
        columns = _by_table(inspector.get_multi_columns(filter_names=names))
        primary_keys = _by_table(inspector.get_multi_pk_constraint(filter_names=names))
        indexes = _by_table(inspector.get_multi_indexes(filter_names=names))
        uniques = _by_table(inspector.get_multi_unique_constraints(filter_names=names))
        foreign_keys = _by_table(inspector.get_multi_foreign_keys(filter_names=names))
        for table in present:
            problems += _column_problems(table, columns[table.name], connection.dialect)
            problems += _primary_key_problems(table, primary_keys[table.name])
            index_problems = _index_problems(table, [*indexes[table.name], *uniques[table.name]])
            for problem in index_problems:
                plain = "UNIQUE" not in problem
                (warnings if plain and warnings is not None else problems).append(problem)
            problems += _foreign_key_problems(table, foreign_keys[table.name])
    live_enums = _live_enums(inspector, connection.dialect)
    problems += _enum_problems(live_enums)
    problems += _status_problems(live_enums, library_statuses)
    return problems


def _by_table(reflected: Mapping[tuple[str | None, str], Any]) -> dict[str, Any]:
    return {table: value for (_schema, table), value in reflected.items()}


def _type_name(column_type: Any, dialect: Dialect) -> str:
    return str(column_type.compile(dialect=dialect))


def _column_problems(table: Table, live: list[Any], dialect: Dialect) -> list[str]:
    by_name = {column["name"]: column for column in live}
    problems: list[str] = []
    for column in table.columns:
        where = f'"{table.name}"."{column.name}"'
        found = by_name.get(column.name)
        if found is None:
            problems.append(f"{where}: column is missing")
            continue
        expected, actual = _type_name(column.type, dialect), _type_name(found["type"], dialect)
        if expected != actual:
            problems.append(f"{where}: type is {actual}, expected {expected}")
        if bool(found["nullable"]) != bool(column.nullable):
            state = "nullable" if found["nullable"] else "NOT NULL"
            wanted = "nullable" if column.nullable else "NOT NULL"
            problems.append(f"{where}: column is {state}, expected {wanted}")
    for name, found in by_name.items():
        if name in table.columns:
            continue
        has_default = found.get("default") is not None or found.get("autoincrement")
        if not found["nullable"] and not has_default:
            problems.append(
                f'"{table.name}"."{name}": unexpected NOT NULL column without a default '
                "(inserts would fail)"
            )
    return problems


def _primary_key_problems(table: Table, live: Mapping[str, Any]) -> list[str]:
    expected = [column.name for column in table.primary_key.columns]
    actual = list(live.get("constrained_columns") or [])
    if actual != expected:
        return [f'"{table.name}": primary key is {_cols(actual)}, expected {_cols(expected)}']
    return []


def _index_problems(table: Table, live: list[Any]) -> list[str]:
    by_name = {index["name"]: index for index in live if index.get("name")}
    problems: list[str] = []
    for index in sorted(table.indexes, key=lambda idx: str(idx.name)):
        expected_columns = [column.name for column in index.columns]
        expected = f"{'UNIQUE ' if index.unique else ''}{_cols(expected_columns)}"
        found = by_name.get(str(index.name))
        if found is None:
            problems.append(f'"{table.name}": index "{index.name}" is missing ({expected})')
            continue
        columns = list(found.get("column_names") or [])
        unique = bool(found.get("unique", True))
        actual = f"{'UNIQUE ' if unique else ''}{_cols(columns)}"
        if actual != expected:
            problems.append(
                f'"{table.name}": index "{index.name}" is {actual}, expected {expected}'
            )
    return problems


def _foreign_key_problems(table: Table, live: list[Any]) -> list[str]:
    problems: list[str] = []
    for fk in sorted(table.foreign_key_constraints, key=lambda c: str(c.name)):
        columns = [column.name for column in fk.columns]
        target = fk.referred_table.name
        on_delete = (fk.ondelete or "NO ACTION").upper()
        matches = [
            found
            for found in live
            if list(found["constrained_columns"]) == columns and found["referred_table"] == target
        ]
        if not matches:
            problems.append(
                f'"{table.name}": foreign key "{fk.name}" {_cols(columns)} → "{target}" is missing'
            )
            continue
        live_on_delete = str((matches[0].get("options") or {}).get("ondelete") or "NO ACTION")
        if live_on_delete.upper() != on_delete and {live_on_delete.upper(), on_delete} != {
            "RESTRICT",
            "NO ACTION",
        }:
            problems.append(
                f'"{table.name}": foreign key "{fk.name}" is ON DELETE {live_on_delete.upper()}, '
                f"expected ON DELETE {on_delete}"
            )
    return problems


def _model_enums() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, Enum) and column.type.name:
                found[column.type.name] = list(column.type.enums)
    return found


def _live_enums(inspector: Inspector, dialect: Dialect) -> dict[str, list[str]]:
    """Live enum types and labels; SQLite has none, so its enums are the models' own."""
    if dialect.name != "postgresql":
        return _model_enums()
    get_enums = getattr(inspector, "get_enums")  # noqa: B009 - PostgreSQL inspector only
    return {
        str(enum["name"]): list(enum["labels"]) for enum in get_enums() if enum.get("visible", True)
    }


def _enum_problems(live: Mapping[str, list[str]]) -> list[str]:
    problems: list[str] = []
    for name, values in _model_enums().items():
        if name not in live:
            problems.append(f'enum "{name}" is missing')
            continue
        if name in APP_OWNED_ENUMS:
            continue
        missing = [value for value in values if value not in live[name]]
        if missing:
            problems.append(f'enum "{name}" lacks value(s) {", ".join(missing)}')
    return problems


def _status_problems(live: Mapping[str, list[str]], statuses: Iterable[str]) -> list[str]:
    name = LibraryItemStatus.__name__
    values = live.get(name)
    if values is None:
        return []
    return [
        f'configured LibraryItem status "{status}" is not a value of enum "{name}" '
        f"(live values: {', '.join(values)}); check LIBRARY_STATUS_UNPLAYED / "
        "LIBRARY_STATUS_PLAYED / LIBRARY_STATUS_PLAYING / LIBRARY_STATUS_WISHLIST"
        for status in dict.fromkeys(statuses)
        if status not in values
    ]


def _cols(columns: Iterable[str]) -> str:
    return "(" + ", ".join(f'"{column}"' for column in columns) + ")"
