"""Holds the IGDB rows per endpoint, ordered by id, with lazily built value indexes."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

Row = dict[str, Any]


class IgdbStore:
    """Read-only IGDB tables; ``index(endpoint, field)`` maps each value to the ids holding it."""

    def __init__(self, tables: dict[str, list[Row]]) -> None:
        self.rows: dict[str, dict[int, Row]] = {
            endpoint: {row["id"]: row for row in sorted(rows, key=lambda r: int(r["id"]))}
            for endpoint, rows in tables.items()
        }
        self._indexes: dict[tuple[str, str], dict[Any, list[int]]] = {}
        self._lock = threading.Lock()

    def index(self, endpoint: str, field: str) -> dict[Any, list[int]]:
        """Value → ids (list-valued fields are indexed per element); built once on first use."""
        key = (endpoint, field)
        found = self._indexes.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._indexes.get(key)
            if found is None:
                built: defaultdict[Any, list[int]] = defaultdict(list)
                for row_id, row in self.rows[endpoint].items():
                    value = row.get(field)
                    if isinstance(value, list):
                        for item in value:
                            built[_key(item)].append(row_id)
                    elif value is not None:
                        built[_key(value)].append(row_id)
                found = dict(built)
                self._indexes[key] = found
            return found


def _key(value: Any) -> Any:
    """Keep booleans apart from the integers 0 and 1 in index keys."""
    return ("bool", value) if isinstance(value, bool) else value


def index_key(value: Any) -> Any:
    """The index key a literal looks up."""
    return _key(value)
