"""The reliability suite's figures (faults injected / survived, hostile inputs tried / handled,
rows lost, secret leaks): counted by its tests, printed at the end of the run by tests/conftest.py.

Under pytest-xdist every worker counts its own; the root conftest adds them up in the controller.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class Figures:
    """What the suite tried and what held; printed at the end of the run."""

    faults: Counter[str] = field(default_factory=Counter)
    faults_survived: Counter[str] = field(default_factory=Counter)
    hostile: Counter[str] = field(default_factory=Counter)
    hostile_handled: Counter[str] = field(default_factory=Counter)
    property_examples: int = 0
    rows_lost: int = 0
    rows_checked: int = 0
    leaks: int = 0
    leak_scans: int = 0

    def record_fault(self, name: str, *, survived: bool) -> None:
        self.faults[name] += 1
        self.faults_survived[name] += int(survived)

    def record_hostile(self, name: str, *, handled: bool) -> None:
        self.hostile[name] += 1
        self.hostile_handled[name] += int(handled)

    def record_rows_lost(self, lost: int, *, checked: int = 0) -> None:
        self.rows_lost += lost
        self.rows_checked += checked

    def record_leaks(self, leaks: int, *, scanned: int = 0) -> None:
        self.leaks += leaks
        self.leak_scans += scanned

    def record_examples(self, count: int = 1) -> None:
        self.property_examples += count

    @contextmanager
    def fault(self, name: str) -> Iterator[None]:
        """Count one injected fault; it survived when the block finishes without an error."""
        try:
            yield
        except BaseException:
            self.record_fault(name, survived=False)
            raise
        self.record_fault(name, survived=True)

    @contextmanager
    def hostile_input(self, name: str) -> Iterator[None]:
        """Count one hostile input; it was handled when the block finishes without an error."""
        try:
            yield
        except BaseException:
            self.record_hostile(name, handled=False)
            raise
        self.record_hostile(name, handled=True)

    @property
    def recorded(self) -> bool:
        return bool(self.faults or self.hostile or self.leak_scans or self.property_examples)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for an xdist worker to hand to the controller."""
        values = {item.name: getattr(self, item.name) for item in fields(self)}
        return {  # execnet sends dicts, not Counters
            name: dict(value) if isinstance(value, Counter) else value
            for name, value in values.items()
        }

    def merge(self, other: dict[str, Any]) -> None:
        """Add a worker's figures (from `as_dict`) to these."""
        for name, value in other.items():
            mine = getattr(self, name)
            if isinstance(mine, Counter):
                mine.update(value)
            else:
                setattr(self, name, mine + value)

    def lines(self) -> list[str]:
        return [
            f"faults injected / survived: {self.faults.total()} / {self.faults_survived.total()}"
            f" ({_kinds(self.faults)} kinds)",
            f"hostile inputs tried / handled: {self.hostile.total()} / "
            f"{self.hostile_handled.total()} ({_kinds(self.hostile)} kinds)",
            f"property-based examples checked: {self.property_examples}",
            f"rows lost: {self.rows_lost} (of {self.rows_checked} expected rows checked)",
            f"secret leaks: {self.leaks} (in {self.leak_scans} texts searched)",
        ]


def _kinds(names: Counter[str]) -> int:
    """Distinct kinds: a name's part before the first colon ("steam id: sql-quote" → steam id)."""
    return len({name.split(":")[0] for name in names})


FIGURES = Figures()
