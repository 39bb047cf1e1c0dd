"""Rows encoded ahead (`enrich._Ahead`): each queued row once, in order, none after a drop."""

from __future__ import annotations

import asyncio

import pytest

from lambdas.enrichment.enrich import _Ahead
from lambdas.enrichment.precedence import Decision
from lambdas.models.rows import AppKind
from lambdas.models.steam_store import StoreType

DLC = Decision(AppKind.DLC, "steam_type=4", "steam_type")


async def test_every_queued_row_is_encoded_once_in_order_whoever_reaches_it() -> None:
    encoded: list[int] = []
    ahead = _Ahead(lambda app, store, decision: encoded.append(app))
    for app in range(100):
        ahead.add(app, StoreType(app, 4), DLC)
    await asyncio.sleep(0)  # the task starts and takes a slice, then yields
    assert 0 < len(encoded) < 100
    await ahead.close(keep=True)  # the rest now
    assert encoded == list(range(100))


async def test_a_dropped_queue_is_not_encoded_and_the_task_ends() -> None:
    encoded: list[int] = []
    ahead = _Ahead(lambda app, store, decision: encoded.append(app))
    for app in range(100):
        ahead.add(app, StoreType(app, 4), DLC)
    await ahead.close(keep=False)  # before the task ran a slice
    await asyncio.sleep(0)
    assert encoded == []
    assert all(task.done() for task in asyncio.all_tasks() if task is not asyncio.current_task())


async def test_an_error_while_encoding_ahead_reaches_the_stage() -> None:
    def fail(app: int, store: StoreType, decision: Decision) -> None:
        raise ValueError(app)

    ahead = _Ahead(fail)
    ahead.add(7, StoreType(7, 4), DLC)
    await asyncio.sleep(0)
    with pytest.raises(ValueError, match="7"):
        await ahead.close(keep=True)
