"""The scheduled sync's plan: which users a run re-imports, within the Steam key's daily budget.

Users are spread over the day: with `SYNC_RUNS_PER_DAY` = N, the schedule runs every 24/N hours and
each run takes the users whose id hashes to its slot of the day. A run never schedules more Steam
calls than its share of the key's daily budget; the users beyond it are deferred with a reason,
rotated by day so the same users are not always the ones left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lambdas.models.events import SteamImportEvent

#: Steam Web API calls one sync import makes with the stored SteamID64 (GetPlayerSummaries and
#: GetOwnedGames; no ResolveVanityURL). GetItems needs no key and is not counted against it.
STEAM_CALLS_PER_SYNC_IMPORT = 2
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What one scheduled run does, and why it leaves users out when it does."""

    slot: int
    runs_per_day: int
    due: int
    scheduled: list[SteamImportEvent]
    call_budget: int

    @property
    def deferred(self) -> int:
        return self.due - len(self.scheduled)

    @property
    def steam_calls(self) -> int:
        return len(self.scheduled) * STEAM_CALLS_PER_SYNC_IMPORT

    def reason(self) -> str | None:
        """Why users were deferred, for the log; None when every due user is scheduled."""
        if not self.deferred:
            return None
        return (
            f"{self.due} users are due in slot {self.slot} of {self.runs_per_day}, needing "
            f"{self.due * STEAM_CALLS_PER_SYNC_IMPORT} Steam calls; this run's share of the key's "
            f"daily budget is {self.call_budget}, so {self.deferred} users wait for a later day"
        )


def _hash(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def user_slot(user_id: str, runs_per_day: int) -> int:
    """The run of the day that syncs this user (stable: the same user, the same slot)."""
    return _hash(user_id) % runs_per_day


def run_slot(moment: datetime, runs_per_day: int) -> int:
    """The slot of the day a run scheduled at `moment` (UTC) serves."""
    minutes = moment.hour * 60 + moment.minute
    return minutes // (MINUTES_PER_DAY // runs_per_day)


def plan_sync(
    requests: Sequence[SteamImportEvent],
    *,
    moment: datetime,
    runs_per_day: int,
    daily_call_budget: int,
) -> SyncPlan:
    """The users of this run's slot, cut to this run's share of the daily Steam call budget."""
    slot = run_slot(moment, runs_per_day)
    due = [request for request in requests if user_slot(request.user_id, runs_per_day) == slot]
    call_budget = daily_call_budget // runs_per_day
    allowed = call_budget // STEAM_CALLS_PER_SYNC_IMPORT
    scheduled = due
    if len(due) > allowed:
        day = f"{moment:%Y%m%d}"
        scheduled = sorted(due, key=lambda request: _hash(f"{day}\n{request.user_id}"))[:allowed]
    return SyncPlan(
        slot=slot,
        runs_per_day=runs_per_day,
        due=len(due),
        scheduled=scheduled,
        call_budget=call_budget,
    )
