"""Small readers and a statement counter for the database tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from lambdas.models.db import metadata


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(metadata.tables[table])
            ).scalar_one()
        )


def rows(engine: Engine, table: str, **where: Any) -> list[dict[str, Any]]:
    """Every row of `table` matching `where`, as dicts keyed by column name."""
    source = metadata.tables[table]
    query = (
        select(source)
        .where(*(source.c[key] == value for key, value in where.items()))
        .order_by(*source.primary_key.columns)
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def one(engine: Engine, table: str, **where: Any) -> dict[str, Any]:
    found = rows(engine, table, **where)
    assert len(found) == 1, found
    return found[0]


def counts(engine: Engine) -> dict[str, int]:
    return {name: count(engine, name) for name in metadata.tables}


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """Record every statement the engine sends inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
