"""A maintenance window's recurrence, built one way for validation and for run time.

The rule's `dtstart` is the window's `start` as an aware time in the window's zone, so an
RFC 5545 `UNTIL=…Z` (how calendar exports write it) compares as an instant, and each
occurrence repeats the wall-clock time (a 02:00 window stays at 02:00 local across
daylight-saving changes). An `UNTIL` without `Z` is wall-clock time in that zone.

Lookups run on every check, so rules that would stall them are refused here: anything
that repeats more often than once a minute, and a COUNT above `MAX_COUNT` (its end is
computed once per window; a longer series should say UNTIL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import SECONDLY, rrule, rrulestr

MAX_COUNT = 10_000


def part(rule: rrule, name: str) -> Any:
    """One parsed part of a rule (`freq`, `interval`, `count`, `until`, `original_rule`...).

    dateutil keeps them in private attributes and its type stubs do not declare them.
    """
    return getattr(rule, f"_{name}")


def local_start(start: datetime, timezone: str) -> datetime:
    """`start` as an aware time in `timezone`: a naive start is wall-clock time there."""
    tz = ZoneInfo(timezone)
    return start.astimezone(tz) if start.tzinfo is not None else start.replace(tzinfo=tz)


def build_rule(text: str, start: datetime, timezone: str) -> rrule:
    """The recurrence of a window; ValueError with a reason a person can act on."""
    dtstart = local_start(start, timezone)
    try:
        parsed = rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError) as exc:
        parsed = _with_local_until(text, dtstart, exc)
    if not isinstance(parsed, rrule):
        raise ValueError("one RRULE line only (no DTSTART, RDATE or EXDATE): start and timezone are fields")
    first = part(parsed, "dtstart")
    if first != dtstart or first.tzinfo is not dtstart.tzinfo:
        raise ValueError("no DTSTART in the rule: the window's start and timezone fields say it")
    if part(parsed, "freq") == SECONDLY or len(part(parsed, "bysecond") or ()) > 1:
        raise ValueError("repeats more often than once a minute; the finest step is FREQ=MINUTELY")
    count = part(parsed, "count")
    if count is not None and count > MAX_COUNT:
        raise ValueError(f"COUNT above {MAX_COUNT}; end a longer series with UNTIL")
    return parsed


def _with_local_until(text: str, dtstart: datetime, error: Exception) -> rrule:
    """A rule whose UNTIL has no Z: that is wall-clock time in the window's zone."""
    try:
        parsed = rrulestr(text, dtstart=dtstart.replace(tzinfo=None))
    except (ValueError, TypeError):
        parsed = None
    until = part(parsed, "until") if isinstance(parsed, rrule) else None
    if not isinstance(parsed, rrule) or until is None or until.tzinfo is not None:
        raise ValueError(f"not an RFC 5545 RRULE: {error}") from None
    return parsed.replace(dtstart=dtstart, until=until.replace(tzinfo=dtstart.tzinfo))  # type: ignore[no-any-return]
