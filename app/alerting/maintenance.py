"""Maintenance windows: planned downtime, once or recurring by RRULE, in a time zone.

`start` is wall-clock time in the window's `timezone` (a time with an offset is converted
to it first), and a recurrence repeats that wall-clock time, so a weekly 02:00 window stays
at 02:00 local across daylight-saving changes. A window is active from an occurrence's
start (inclusive) for `duration`.

Which monitors: those listed in `monitors` (namespace defaults to the window's), plus
those in the window's namespace that its `monitorSelector` selects. With a list and no
selector only the listed ones are covered; with neither, every monitor in the namespace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from app.alerting.routing import MonitorLike
from app.resources.kinds import MaintenanceWindowSpec

# How far an occurrence may move in UTC when wall-clock time crosses a DST change.
_DST_SLACK = timedelta(hours=3)


@dataclass(slots=True)
class WindowView:
    uid: str
    namespace: str
    name: str
    spec: MaintenanceWindowSpec
    _tz: ZoneInfo = field(init=False)
    _start_local: datetime = field(init=False)
    _rule: Any = field(init=False, default=None)
    _listed: frozenset[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        # Parsed once per cache revision: `covers` runs for every check of every monitor.
        self._tz = ZoneInfo(self.spec.timezone)
        start = self.spec.start
        if start.tzinfo is not None:
            start = start.astimezone(self._tz)
        self._start_local = start.replace(tzinfo=None)
        if self.spec.rrule:
            self._rule = rrulestr(self.spec.rrule, dtstart=self._start_local)
        self._listed = frozenset((r.namespace or self.namespace, r.name) for r in self.spec.monitors)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=self.spec.duration)

    def _aware(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self._tz).astimezone(UTC)

    def occurrences(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """(start, end) in UTC of every occurrence that overlaps [start, end)."""
        if self._rule is None:
            candidates = [self._start_local]
        else:
            lo = start.astimezone(self._tz).replace(tzinfo=None) - self.duration - _DST_SLACK
            hi = end.astimezone(self._tz).replace(tzinfo=None) + _DST_SLACK
            candidates = self._rule.between(lo, hi, inc=True)
        out = []
        for local in candidates:
            s = self._aware(local)
            e = s + self.duration
            if s < end and e > start:
                out.append((s, e))
        return out

    def active(self, now: datetime) -> bool:
        return bool(self.occurrences(now, now + timedelta(microseconds=1)))

    def next_start(self, now: datetime) -> datetime | None:
        """The next occurrence starting after `now` (for pages and the API), or None."""
        if self._rule is None:
            s = self._aware(self._start_local)
            return s if s > now else None
        after = self._rule.after(now.astimezone(self._tz).replace(tzinfo=None), inc=False)
        return self._aware(after) if after is not None else None

    def selects(self, monitor: MonitorLike) -> bool:
        if (monitor.namespace, monitor.name) in self._listed:
            return True
        if monitor.namespace != self.namespace:
            return False
        sel = self.spec.monitorSelector
        if self._listed and not sel.matchLabels and not sel.matchExpressions:
            return False
        return sel.matches(monitor.labels)

    def covers(self, monitor: MonitorLike, now: datetime) -> bool:
        return self.selects(monitor) and self.active(now)


def occurrences_between(
    spec: MaintenanceWindowSpec, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """(start, end) in UTC of every stretch of a window that overlaps [start, end): for status pages."""
    return WindowView("", "", "", spec).occurrences(start, end)


def covering(windows: Iterable[WindowView], monitor: MonitorLike, now: datetime) -> WindowView | None:
    """The first window that has the monitor in maintenance at `now`, or None."""
    for w in windows:
        if w.selects(monitor) and w.active(now):
            return w
    return None
