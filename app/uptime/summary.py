"""What a status page says: one bar per day, and one banner for the whole page.

A monitor's history starts on the first day it was checked: the days before it are
"before" (no data, and nothing to count), never drawn as if they were days of history.
A day inside the history without checks (paused, or nothing ran) is "none".
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import NamedTuple

from app.uptime.sla import Totals, format_percent
from app.uptime.windows import floor


class DayBar(NamedTuple):
    day: date
    totals: Totals
    before: bool = False  # before the monitor's first check

    @property
    def ratio(self) -> float | None:
        return self.totals.ratio

    @property
    def level(self) -> str:
        """A colour class: ok, minor (< 99.9 %), major (< 99 %), maintenance only, or none (no data)."""
        return "before" if self.before else _level(self.totals.ratio, self.totals.maintenance)

    def to_json(self) -> dict[str, object]:
        t = self.totals
        r = t.ratio
        return {
            "date": self.day.isoformat(), "uptime": r, "uptimePercent": format_percent(r),
            "up": t.up, "down": t.down, "maintenance": t.maintenance, "level": self.level,
        }  # fmt: skip


def _level(ratio: float | None, maintenance: int) -> str:
    if ratio is None:
        return "maintenance" if maintenance else "none"
    if ratio >= 0.999:
        return "ok"
    return "minor" if ratio >= 0.99 else "major"


def first_checked(days: Mapping[date, Totals]) -> date | None:
    """The earliest day with checks in these rollups, or None."""
    return min((d for d, t in days.items() if t.checks), default=None)


def day_bars(days: Mapping[date, Totals], count: int, now: datetime) -> list[DayBar]:
    """`count` bars, oldest first, ending with today (UTC); a day without rollups has no data.

    `days` may reach further back than the bars: checks on an earlier day mean the history
    covers every bar, none on any day mean every bar is before the history.
    """
    today = floor(now, "d").date()
    first = first_checked(days)
    return [
        DayBar(d, days.get(d, Totals()), first is None or d < first)
        for d in (today - timedelta(days=count - 1 - i) for i in range(count))
    ]


def history_days(bars: list[DayBar]) -> int:
    """How many of the bars lie within the monitor's history: what its uptime is "over"."""
    return sum(1 for b in bars if not b.before)


class Overall(enum.StrEnum):
    OPERATIONAL = "operational"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"

    @property
    def text(self) -> str:
        return {
            "operational": "All systems operational",
            "partial_outage": "Partial outage",
            "major_outage": "Major outage",
            "maintenance": "Under maintenance",
            "unknown": "No data yet",
        }[self.value]


def overall_status(states: Iterable[str | None], maintenance_active: bool = False) -> Overall:
    """One banner from the states of a page's monitors.

    Any monitor DOWN is an outage, major when every checked monitor outside maintenance
    is DOWN. Otherwise maintenance (a monitor in it, or a window active now) shows, and
    PENDING (failed, retries left) is not yet an outage. Monitors never checked don't count.
    """
    seen = [s for s in states if s]
    down = sum(1 for s in seen if s == "DOWN")
    in_maintenance = sum(1 for s in seen if s == "MAINTENANCE")
    if down:
        return Overall.MAJOR_OUTAGE if down == len(seen) - in_maintenance else Overall.PARTIAL_OUTAGE
    if in_maintenance or maintenance_active:
        return Overall.MAINTENANCE
    return Overall.OPERATIONAL if seen else Overall.UNKNOWN
