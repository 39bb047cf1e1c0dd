"""The running stage's time budget (STAGE_TIME_BUDGET_SECONDS): every upstream attempt and every
retry wait inside ends by its deadline, so retries cannot outlast the Lambda that runs the stage.

Kept apart from `http` (no httpx here): `stages` sets the budget for every stage, including the
database stage, whose Lambda never loads httpx.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


class StageBudgetSpentError(Exception):
    """The stage's time budget ran out: no further attempt or wait."""

    def __init__(self, seconds: float | None = None) -> None:
        super().__init__("the stage's time budget is spent")
        self.seconds = seconds


#: The monotonic instant the running stage's upstream work must end by (None: no budget).
_deadline: ContextVar[float | None] = ContextVar("stage_deadline", default=None)


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Bound every attempt and every retry wait inside to `seconds` from now; a nested budget
    never extends an outer one. Coroutines started inside (gather, tasks) share it."""
    if seconds is None:
        yield
        return
    deadline = time.monotonic() + max(seconds, 0.0)
    outer = _deadline.get()
    token = _deadline.set(deadline if outer is None else min(deadline, outer))
    try:
        yield
    finally:
        _deadline.reset(token)


def budget_left() -> float | None:
    """Seconds left of the running stage's budget, or None when there is none."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


@contextmanager
def budget_share(fraction: float) -> Iterator[None]:
    """At most `fraction` of what is left of the budget, for a step the stage can do without
    (GetItems: its failure degrades the stage instead of spending all of it)."""
    left = budget_left()
    with time_budget(None if left is None else max(left, 0.0) * fraction):
        yield


async def within_budget(seconds: float | None, work: Awaitable[T]) -> T:
    """Await `work` with the budget set (for callers that run a stage's service directly)."""
    with time_budget(seconds):
        return await work
