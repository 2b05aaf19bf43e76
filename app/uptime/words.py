"""How a status page words time: durations, incident spans and maintenance recurrences.

Pure functions over values the page already has. Durations are truncated like
percentages (a 59.6 s outage is "59 s"), and a span whose two ends share a minute shows
seconds, so a 35-second incident never reads "18:13 to 18:13". Recurrences are put in
words for the shapes people write (every N minutes/hours/days/weeks on given days,
monthly on given days of the month); any other rule is quoted as written.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dateutil.rrule import DAILY, HOURLY, MINUTELY, MONTHLY, WEEKLY, YEARLY

from app.resources.recurrence import build_rule, local_start, part

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_UNITS = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))
_EVERY = {MINUTELY: "minute", HOURLY: "hour", DAILY: "day", WEEKLY: "week", MONTHLY: "month", YEARLY: "year"}
_ONCE = {DAILY: "daily", WEEKLY: "weekly", MONTHLY: "monthly", YEARLY: "yearly"}


def duration_text(seconds: float) -> str:
    """35 -> '35 s'; 860 -> '14 min 20 s'; 7509 -> '2 h 5 min': the two largest units, truncated."""
    left = max(int(seconds), 0)
    if left == 0:
        return "0 s"
    parts: list[tuple[int, str]] = []
    for size, unit in _UNITS:
        n, left = divmod(left, size)
        if n or parts:
            parts.append((n, unit))
    top = parts[:2]
    return " ".join(f"{n} {unit}" for n, unit in top if n or (n, unit) == top[0])


def span_text(start: datetime, end: datetime | None) -> str:
    """When something ran, in UTC: seconds when both ends fall in one minute, the date once if one day."""
    s = start.astimezone(UTC)
    if end is None:
        return f"since {s:%Y-%m-%d %H:%M} UTC"
    e = end.astimezone(UTC)
    if s.replace(second=0, microsecond=0) == e.replace(second=0, microsecond=0):
        return f"{s:%Y-%m-%d %H:%M:%S} – {e:%H:%M:%S} UTC"
    if s.date() == e.date():
        return f"{s:%Y-%m-%d %H:%M} – {e:%H:%M} UTC"
    return f"{s:%Y-%m-%d %H:%M} – {e:%Y-%m-%d %H:%M} UTC"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def recurrence_text(rule_text: str, start: datetime, timezone: str) -> str:
    """A rule in words: 'FREQ=WEEKLY;BYDAY=SU' from 02:00 in Europe/Berlin reads
    'weekly on Sunday at 02:00 Europe/Berlin'; a shape without words is quoted as written."""
    rule = build_rule(rule_text, start, timezone)
    original = part(rule, "original_rule")
    freq, n = part(rule, "freq"), part(rule, "interval")
    local = local_start(start, timezone)
    weekdays = original.get("byweekday") or ()
    said = {WEEKLY: {"byweekday"}, MONTHLY: {"bymonthday"}}.get(freq, set())
    if set(original) - said or any(w.n for w in weekdays) or freq == YEARLY:
        return f"repeats ({rule_text})"
    head = (_ONCE.get(freq) or f"every {_EVERY[freq]}") if n == 1 else f"every {n} {_EVERY[freq]}s"
    if freq == WEEKLY:
        days = sorted(w.weekday for w in weekdays) or [local.weekday()]
        head += " on " + _and([_WEEKDAYS[d] for d in days])
    elif freq == MONTHLY:
        head += " on day " + _and([str(d) for d in sorted(original.get("bymonthday") or [local.day])])
    if freq == HOURLY:
        head += f" at :{local.minute:02d}"
    elif freq != MINUTELY:
        head += f" at {local:%H:%M} {timezone}"
    if count := part(rule, "count"):
        head += f", {count} times"
    if until := part(rule, "until"):
        head += f", until {until:%Y-%m-%d}"
    return head
