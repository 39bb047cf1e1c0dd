"""What differs between PostgreSQL and SQLite in this project's SQL, behind one small strategy
object: stage 3's loader and own state's filtered list both use it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import pydantic_core
from sqlalchemy import (
    Table,
    Text,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql import FromClause
from sqlalchemy.types import TypeEngine, UserDefinedType

Spec = Sequence[tuple[str, TypeEngine[Any]]]
Record = dict[str, Any]


class _JsonbParameter(UserDefinedType[Any]):
    """A parameter the driver sends as jsonb (a psycopg `Jsonb`), rendered `%(name)s::JSONB`,
    with no bind processing of SQLAlchemy's (its JSONB type would wrap the value again)."""

    cache_ok = True
    render_bind_cast = True

    def get_col_spec(self, **kw: Any) -> str:
        return "JSONB"


@dataclass(frozen=True)
class Dialect:
    """The dialect-specific pieces of the loader's SQL; `for_connection` picks one."""

    postgresql: bool

    @classmethod
    def for_connection(cls, connection: Connection) -> Dialect:
        return cls(postgresql=connection.dialect.name == "postgresql")

    def insert(self, table: Table) -> Any:
        """An INSERT that knows ON CONFLICT in this dialect."""
        return (postgresql if self.postgresql else sqlite).insert(table)

    def recordset(self, spec: Spec, *, name: str = "r") -> FromClause:
        """A table with the columns of `spec`, read from one JSON parameter (`records_param`
        with this record set).

        Each record is a JSON array of the spec's values in order (`records_param`), so no
        key is repeated 14,000 times in the text the database parses and holds (PostgreSQL
        unpacked 12,000 Game records in half the time as arrays as it took as objects with
        `jsonb_to_recordset`). The database unpacks the array itself (`jsonb_array_elements`
        on PostgreSQL, `json_each` on SQLite), so an import of 100 or 20,000 games sends the
        same statements and no bound-parameter limit is reached. Timestamps travel as text in
        SQLAlchemy's SQLite storage format, which PostgreSQL parses too. The JSON is bound at
        execution, never embedded: the compiled-statement cache would keep an embedded value
        for the process's life.
        """
        if self.postgresql:
            # Bound as jsonb itself (`records_param` sends the encoder's bytes as psycopg's
            # Jsonb): a text parameter CAST to JSONB would make the server print the parsed
            # jsonb back to text and parse it again.
            payload = bindparam(f"{name}_records", type_=_JsonbParameter())
            elements = func.jsonb_array_elements(payload).table_valued(
                "value", name=f"{name}_items"
            )
            fields = [
                cast(elements.c.value.op("->>")(literal_column(str(index))), kind).label(field)
                for index, (field, kind) in enumerate(spec)
            ]
            return select(*fields).select_from(elements).subquery(name)
        each = func.json_each(bindparam(f"{name}_records", type_=Text)).table_valued(
            "value", name=f"{name}_items"
        )
        fields = [
            type_coerce(func.json_extract(each.c.value, f"$[{index}]"), kind).label(field)
            for index, (field, kind) in enumerate(spec)
        ]
        # Materialized, so SQLite reads the array once and joins it to the tables' indexes; as
        # a plain subquery it may scan the whole array again for every stored row (2,000 games
        # re-imported: 13 s instead of 0.1 s).
        return select(*fields).select_from(each).cte(name).prefix_with("MATERIALIZED")

    def records_param(self, records: list[Record], source: FromClause) -> dict[str, Any]:
        """The execution parameter of `source`, a `recordset`: `records` (holding at least its
        columns) as a JSON array of arrays, each a record's values of those columns in order.

        On PostgreSQL the JSON goes to the driver as the encoder's bytes (psycopg's `Jsonb`
        with its `dumps`), never decoded into a str that the driver would encode again, so one
        copy of a large record set is alive, not three."""
        name = str(source.name)  # type: ignore[attr-defined]
        columns = list(source.c.keys())
        if not self.postgresql:
            return records_param(records, name=name, columns=columns)
        from psycopg.types.json import Jsonb

        return {f"{name}_records": Jsonb(_rows(records, columns), dumps=pydantic_core.to_json)}

    def lock_user(self, connection: Connection, user_id: str) -> None:
        """Serialize imports of one user until the transaction ends.

        PostgreSQL: a transaction-scoped advisory lock on the user id's hash. SQLite: nothing
        to do, the engine's transactions begin with BEGIN IMMEDIATE and so serialize writers.
        """
        if self.postgresql:
            key = func.hashtext(literal(user_id, Text))
            connection.execute(select(func.pg_advisory_xact_lock(key)))

    def enum_labels(self, connection: Connection, name: str) -> list[str] | None:
        """The labels of the live enum type `name` in order; None on SQLite (no enum types)
        and when PostgreSQL has no such type."""
        if not self.postgresql:
            return None
        found = connection.execute(
            text(
                "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
                "WHERE t.typname = :name AND pg_type_is_visible(t.oid) ORDER BY e.enumsortorder"
            ),
            {"name": name},
        ).scalars()
        labels = [str(label) for label in found]
        return labels or None


def records_param(
    records: list[Record], *, name: str = "r", columns: Sequence[str]
) -> dict[str, str]:
    """The execution parameter of SQLite's `recordset` called `name`: `records` as a JSON array
    of arrays, each the record's values of `columns` in order."""
    # ASCII JSON (`\uXXXX` escapes, which json_extract decodes): a str of one byte a character,
    # which sqlite3 binds without a UTF-8 copy. The UTF-8 text decoded into a str took four bytes
    # a character as soon as one name held an emoji (16 MB for 4 MB of ImportedGame records),
    # plus the UTF-8 copy sqlite3 keeps beside it, at the import's memory peak.
    return {f"{name}_records": json.dumps(_rows(records, columns), separators=(",", ":"))}


def _rows(records: list[Record], columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """Each record's values of `columns`, in order (None for a column a record lacks)."""
    if len(columns) == 1:  # itemgetter of one key gives the value, not a 1-tuple
        (only,) = columns
        return [(record.get(only),) for record in records]
    pick = itemgetter(*columns)
    try:
        return list(map(pick, records))  # in C: a third of the time of a comprehension
    except KeyError:
        return [tuple(record.get(column) for column in columns) for record in records]
