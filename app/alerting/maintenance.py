"""Maintenance windows: planned downtime, once or recurring by RRULE, in a time zone.

`start` is wall-clock time in the window's `timezone` (a time with an offset is converted
to it first), and a recurrence repeats that wall-clock time, so a weekly 02:00 window stays
at 02:00 local across daylight-saving changes. A window is active from an occurrence's
start (inclusive) for `duration`.

The rule is built by `app.resources.recurrence.build_rule`, the function the manifest was
validated with. Every check asks `covers`, so the answer must not cost more as a window
ages: it comes from a cached span between two occurrence starts, and when that expires
from the rule rebased near now (`_near`), never from an expansion since the window's start.

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

from dateutil.rrule import DAILY, HOURLY, MINUTELY, MONTHLY, WEEKLY, YEARLY, rrule

from app.alerting.routing import MonitorLike
from app.resources.kinds import MaintenanceWindowSpec
from app.resources.recurrence import build_rule, local_start, part

# How far an occurrence may move in UTC when wall-clock time crosses a DST change.
_DST_SLACK = timedelta(hours=3)
_FOREVER = datetime.max.replace(tzinfo=UTC)
_SHORT_LOOK = timedelta(days=1)
# Most stretches one call of `occurrences` returns (a page shows ten; a minutely rule has 43,200 a month).
OCCURRENCE_LIMIT = 1000
# By-values dateutil fills in from dtstart when a rule names no day: kept when the rule is rebased.
_DAY_PARTS = ("byweekno", "byyearday", "bymonthday", "byweekday", "byeaster")


@dataclass(frozen=True, slots=True)
class _Span:
    """For lo <= now < hi the answer does not change: active while now < until."""

    lo: datetime
    hi: datetime
    until: datetime


@dataclass(slots=True)
class WindowView:
    uid: str
    namespace: str
    name: str
    spec: MaintenanceWindowSpec
    _tz: ZoneInfo = field(init=False)
    _start: datetime = field(init=False)  # aware, in the window's zone
    _rule: rrule | None = field(init=False, default=None)
    _last: datetime | None = field(init=False, default=None)  # the last occurrence of a COUNT rule
    _span: _Span | None = field(init=False, default=None)
    _listed: frozenset[tuple[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        # Parsed once per cache revision, by the function the manifest was validated with.
        self._tz = ZoneInfo(self.spec.timezone)
        self._start = local_start(self.spec.start, self.spec.timezone)
        if self.spec.rrule:
            self._rule = build_rule(self.spec.rrule, self.spec.start, self.spec.timezone)
        self._listed = frozenset((r.namespace or self.namespace, r.name) for r in self.spec.monitors)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def duration(self) -> timedelta:
        return timedelta(seconds=self.spec.duration)

    # -- recurrence, at a cost that does not grow with the window's age ---------------------
    def _near(self, t: datetime) -> rrule:
        """A rule with the same occurrences from `t` on whose dtstart lies a period or two before `t`.

        Expanding from the window's own start costs more every day it ages (an hourly window
        of ten years: 87,600 steps per check). The rule is rebased by whole periods of its
        FREQ × INTERVAL in wall-clock time, so its lattice, its by-values and its wall-clock
        times stay exactly those of the original; a COUNT becomes the UNTIL it amounts to.
        """
        rule = self._rule
        assert rule is not None
        start = self._start.replace(tzinfo=None)
        target = t.astimezone(self._tz).replace(tzinfo=None) - _DST_SLACK
        if target <= start:
            return rule
        freq, n = part(rule, "freq"), part(rule, "interval")
        if freq == YEARLY:
            k = (target.year - start.year) // n - 1
            jumped = start.replace(year=start.year + k * n, month=1, day=1) if k > 0 else start
        elif freq == MONTHLY:
            k = ((target.year - start.year) * 12 + target.month - start.month) // n - 1
            month = start.month - 1 + max(k, 0) * n
            jumped = start.replace(year=start.year + month // 12, month=month % 12 + 1, day=1)
        elif freq in (WEEKLY, DAILY):
            days = 7 if freq == WEEKLY else 1
            k = (target.date() - start.date()).days // days // n - 1
            jumped = start + timedelta(days=days * n * k)
        else:
            unit = 3600 if freq == HOURLY else 60
            assert freq in (HOURLY, MINUTELY)
            k = int((target - start).total_seconds()) // unit // n - 1
            jumped = start + timedelta(seconds=unit * n * k)
        if k <= 0:
            return rule
        extra: dict[str, Any] = {}
        original = part(rule, "original_rule")
        if freq in (YEARLY, MONTHLY) and not any(original.get(p) for p in _DAY_PARTS):
            extra["bymonthday"] = start.day  # dateutil would take it from the new dtstart
            if freq == YEARLY and not original.get("bymonth"):
                extra["bymonth"] = start.month
        if part(rule, "count") is not None:
            if self._last is None:
                self._last = max(rule)  # at most MAX_COUNT steps, once
            extra.update(count=None, until=self._last)
        return rule.replace(dtstart=jumped.replace(tzinfo=self._tz), **extra)  # type: ignore[no-any-return]

    def _span_at(self, now: datetime) -> _Span:
        # The latest start at or before `now` decides; look a day back first, so a long
        # duration does not make a frequent rule walk all of it, and the whole duration only
        # when nothing started in that day.
        found = self._latest(now, min(self.duration, _SHORT_LOOK))
        if found[0] is None and self.duration > _SHORT_LOOK:
            found = self._latest(now, self.duration)
        prev, nxt = found
        hi = nxt or _FOREVER
        if prev is None:  # nothing started since (now - duration - slack): not in a window
            return _Span(now, hi, now)
        return _Span(prev, hi, prev + self.duration)

    def _latest(self, now: datetime, back: timedelta) -> tuple[datetime | None, datetime | None]:
        """The last start in (about) [now - back, now] and the first start after now, in UTC."""
        prev: datetime | None = None
        for local in self._near(now - back):
            s = local.astimezone(UTC)
            if s > now:
                return prev, s
            prev = s
        return prev, None

    def occurrences(
        self, start: datetime, end: datetime, limit: int = OCCURRENCE_LIMIT
    ) -> list[tuple[datetime, datetime]]:
        """(start, end) in UTC of the first `limit` occurrences that overlap [start, end)."""
        if self._rule is None:
            s = self._start.astimezone(UTC)
            return [(s, s + self.duration)] if s < end and s + self.duration > start else []
        out: list[tuple[datetime, datetime]] = []
        for local in self._near(start - self.duration):
            s = local.astimezone(UTC)
            if s >= end or len(out) >= limit:
                break
            if s + self.duration > start:
                out.append((s, s + self.duration))
        return out

    def active(self, now: datetime) -> bool:
        """Whether an occurrence runs at `now`; asked on every check, so answered from a cached span.

        The span (from the last occurrence start to the next one) is an immutable value
        replaced whole, so worker threads share it without a lock; a race only computes it twice.
        """
        if self._rule is None:
            s = self._start.astimezone(UTC)
            return s <= now < s + self.duration
        span = self._span
        if span is None or not span.lo <= now < span.hi:
            span = self._span = self._span_at(now)
        return now < span.until

    def next_start(self, now: datetime) -> datetime | None:
        """The next occurrence starting after `now` (for pages and the API), or None."""
        if self._rule is None:
            s = self._start.astimezone(UTC)
            return s if s > now else None
        for local in self._near(now):
            if local.astimezone(UTC) > now:
                return local.astimezone(UTC)
        return None

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
