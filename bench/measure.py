"""Counters a benchmark child reads around one pipeline run: SQL statements, rows, requests, RSS."""

from __future__ import annotations

import contextlib
import json
import resource
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, table
from sqlalchemy.engine import Engine

#: Tables whose row counts are reported before and after each run (the app's tables an import
#: writes).
COUNTED_TABLES = (
    "User",
    "ImportedGame",
    "Game",
    "Genre",
    "Platform",
    "GameGenre",
    "GamePlatform",
    "LibraryItem",
)


@dataclass(slots=True)
class StatementCounter:
    """Counts statements per label (`before_cursor_execute`); none while the label is None."""

    label: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def attach(self, engine: Engine) -> StatementCounter:
        event.listen(engine, "before_cursor_execute", self._on_execute)
        return self

    def _on_execute(self, *_args: Any) -> None:
        if self.label is not None:
            self.counts[self.label] = self.counts.get(self.label, 0) + 1

    def take(self) -> dict[str, int]:
        """The counts so far, then start again from zero."""
        counts, self.counts, self.label = self.counts, {}, None
        return counts


def row_counts(engine: Engine, *, users: str = "User") -> dict[str, int]:
    """Rows in each counted table (call while the statement counter is unlabelled); `users`
    names the users table, which today's app calls "user". Keyed by the standalone names."""
    names = {name: users if name == "User" else name for name in COUNTED_TABLES}
    with engine.connect() as connection:
        return {
            name: int(
                connection.execute(select(func.count()).select_from(table(actual))).scalar_one()
            )
            for name, actual in names.items()
        }


def rows_written(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Net new rows per table."""
    return {name: after[name] - before[name] for name in COUNTED_TABLES}


class SandboxAdmin:
    """The sandbox's admin routes over HTTP, for a child process that does not own the sandbox."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def reset_stats(self) -> None:
        body = json.dumps({"knobs": False, "stats": True, "limits": False}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_sandbox/reset",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def requests(self) -> dict[str, dict[str, int]]:
        """service → endpoint → requests answered (any status) since the last reset."""
        with urllib.request.urlopen(f"{self.base_url}/_sandbox/stats", timeout=10) as response:
            stats = json.loads(response.read())
        return {
            service: {endpoint: sum(statuses.values()) for endpoint, statuses in endpoints.items()}
            for service, endpoints in stats["requests"].items()
        }


def reset_peak_rss() -> None:
    """Start this process's peak RSS again from its current RSS (Linux: `clear_refs` 5), so the
    next reading is one phase's peak; elsewhere the peak goes on accumulating."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB.

    On Linux this is VmHWM from /proc/self/status: `ru_maxrss` would report at least the parent's
    peak, because Linux carries the pre-exec address space's high-water mark across fork + exec.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)
