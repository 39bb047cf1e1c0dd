"""The sandbox's knobs, limiters and fault injector (pure parts, fake times)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from steam_sandbox import Knobs
from steam_sandbox.faults import FaultInjector
from steam_sandbox.knobs import parse_assignments
from steam_sandbox.limits import DailyCounter, InFlight, SlidingWindow


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["igdb.latency_ms=100"], {"igdb": {"latency_ms": 100}}),
        (["steam.error_statuses=[503]"], {"steam": {"error_statuses": (503,)}}),
        (["igdb.category_mode=error"], {"igdb": {"category_mode": "error"}}),
        (
            ["all.latency_ms=5", "twitch.expires_in=1"],
            {"all": {"latency_ms": 5}, "twitch": {"expires_in": 1}},
        ),
        (["steam.rate_limit_enabled=false"], {"steam": {"rate_limit_enabled": False}}),
    ],
)
def test_parse_assignments(items: list[str], expected: object) -> None:
    assert parse_assignments(items) == expected


@pytest.mark.parametrize("item", ["latency_ms=5", "igdb.latency_ms", "igdb.=3"])
def test_malformed_assignments(item: str) -> None:
    with pytest.raises(ValueError, match=r"service\.name=value"):
        parse_assignments([item])


def test_merged_applies_all_and_validates() -> None:
    knobs = Knobs().merged({"all": {"latency_ms": 10}, "igdb": {"max_in_flight": 2}})

    assert (knobs.steam.latency_ms, knobs.twitch.latency_ms, knobs.igdb.latency_ms) == (10, 10, 10)
    assert knobs.igdb.max_in_flight == 2
    with pytest.raises(ValidationError):
        Knobs().merged({"igdb": {"error_rate": 2}})
    with pytest.raises(ValidationError):
        Knobs().merged({"igdb": {"no_such_knob": 1}})
    with pytest.raises(ValueError, match="unknown service"):
        Knobs().merged({"gog": {"latency_ms": 1}})


def test_sliding_window_admits_four_per_second() -> None:
    window = SlidingWindow()

    admitted = [window.admit(t, 4, 1.0) for t in (0.0, 0.1, 0.2, 0.3, 0.4, 0.9, 1.05, 1.15)]

    assert admitted == [True, True, True, True, False, False, True, True]


def test_daily_counter_and_in_flight() -> None:
    daily, gauge = DailyCounter(), InFlight()

    assert [daily.admit("k", 10.0, 2) for _ in range(3)] == [True, True, False]
    assert daily.admit("k", 86_400.0 + 10, 2)
    assert daily.admit("other", 86_400.0 + 11, 2)
    assert [gauge.enter() for _ in range(3)] == [1, 2, 3]
    gauge.leave()
    assert (gauge.current, gauge.peak) == (2, 3)


def test_fault_plans_repeat_for_a_seed() -> None:
    knobs = Knobs().merged({"igdb": {"error_rate": 0.3, "burst_429_rate": 0.3}}).igdb
    one, two = FaultInjector(5), FaultInjector(5)

    first = [one.plan("igdb", knobs) for _ in range(50)]
    second = [two.plan("igdb", knobs) for _ in range(50)]
    one.reset()

    assert first == second
    assert [one.plan("igdb", knobs) for _ in range(50)] == first
    assert any(p.error_status for p in first)
    assert any(p.burst_429 for p in first)
