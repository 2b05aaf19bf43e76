"""Flapping: a monitor that keeps going down and up gets one notice, not a storm.

Nagios' method: over the last 21 checks, count the state changes, weighting recent ones
more (0.75 for the oldest change up to 1.25 for the newest), as a percentage of the 20
possible changes. Hysteresis keeps the verdict stable: flapping starts above `high` and
ends only below `low`. The state that counts is "DOWN or not": PENDING retries and
MAINTENANCE do not make a monitor flap (maintenance checks are left out entirely).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

HISTORY = 21
_LOW_WEIGHT, _HIGH_WEIGHT = 0.75, 1.25


@dataclass(frozen=True, slots=True)
class FlapThresholds:
    high: float = 30.0  # percent: start flapping above this (about three outages in 21 checks)
    low: float = 15.0  # percent: stop flapping below this


class FlapChange(enum.StrEnum):
    STARTED = "started"
    ENDED = "ended"


def percent_state_change(down: Sequence[bool]) -> float:
    """Weighted percent of state changes in `down` (oldest first; the last HISTORY values count)."""
    values = list(down)[-HISTORY:]
    slots = HISTORY - 1
    total = 0.0
    for i in range(1, len(values)):
        if values[i] != values[i - 1]:
            # Position of this change among the 20 a full history has: the newest weighs most.
            pos = slots - (len(values) - 1 - i) - 1
            total += _LOW_WEIGHT + (_HIGH_WEIGHT - _LOW_WEIGHT) * pos / (slots - 1)
    return total * 100.0 / slots


def is_flapping(was: bool, percent: float, th: FlapThresholds = FlapThresholds()) -> bool:
    return percent >= th.low if was else percent > th.high


def flap_change(was: bool, percent: float, th: FlapThresholds = FlapThresholds()) -> FlapChange | None:
    now = is_flapping(was, percent, th)
    if now and not was:
        return FlapChange.STARTED
    if was and not now:
        return FlapChange.ENDED
    return None


def down_history(states_newest_first: Sequence[str]) -> list[bool]:
    """Heartbeat states (as the store lists them, newest first) to DOWN-or-not, oldest first."""
    return [s == "DOWN" for s in reversed(states_newest_first) if s != "MAINTENANCE"]


def flapping_status(current: dict[str, Any], change: FlapChange, at: datetime, percent: float,
                    now: datetime) -> dict[str, Any]:  # fmt: skip
    """The monitor's `status.flapping` after a change. `since` names the episode: when it started."""
    since = current.get("since") if change is FlapChange.ENDED else at.isoformat()
    return {"active": change is FlapChange.STARTED, "since": since or at.isoformat(),
            "percent": round(percent, 1), "changedAt": now.isoformat()}  # fmt: skip
