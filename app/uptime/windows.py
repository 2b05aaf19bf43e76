"""Which rollup buckets cover a window [since, now) exactly, whatever its length.

Every heartbeat is counted in one minute, one hour and one day bucket of `kk_uptime`
(see `CheckRepo.record`), and each resolution is kept for its own time (`KEEP`). A window
is read as whole days in the middle, whole hours beside them and minutes at the two
edges, so a 24-hour window sums at most ~140 rows per monitor and a 90-day one ~230,
however many heartbeats there were.

Windows are exact to the minute. Where the minute rows at the old edge are already
pruned (a window longer than 48 h) the window starts at the next full hour, and past the
hour rows' age at the next full day: a window loses less than one bucket of the finest
resolution still kept at that age, and never counts a pruned (empty) bucket as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
STEP = {"m": MINUTE, "h": HOUR, "d": DAY}
# How long each resolution is kept (retention in app/store/rollups.py follows this table).
KEEP = {"m": timedelta(hours=48), "h": timedelta(days=90), "d": timedelta(days=730)}


@dataclass(frozen=True, slots=True)
class Span:
    """Buckets of one resolution whose start lies in [start, end); both ends are aligned."""

    resolution: str
    start: datetime
    end: datetime

    @property
    def buckets(self) -> int:
        return int((self.end - self.start) / STEP[self.resolution])


def floor(t: datetime, resolution: str) -> datetime:
    t = t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)
    if resolution == "m":
        return t.replace(second=0, microsecond=0)
    if resolution == "h":
        return t.replace(minute=0, second=0, microsecond=0)
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def ceil(t: datetime, resolution: str) -> datetime:
    f = floor(t, resolution)
    return f if f == t else f + STEP[resolution]


def _cover(start: datetime, end: datetime, levels: tuple[str, ...]) -> list[Span]:
    """Coarsest buckets that fit inside [start, end), recursing into finer ones at the edges."""
    if start >= end:
        return []
    res, finer = levels[0], levels[1:]
    lo, hi = ceil(start, res), floor(end, res)
    if lo >= hi:
        return _cover(start, end, finer) if finer else []
    middle = [Span(res, lo, hi)]
    if not finer:
        return middle
    return _cover(start, lo, finer) + middle + _cover(hi, end, finer)


def effective_start(since: datetime, now: datetime, keep: dict[str, timedelta] = KEEP) -> datetime:
    """Where a window can start given what retention has kept at that age (see the module doc)."""
    start = floor(since, "m")
    # One bucket of margin: retention may be pruning the oldest bucket right now.
    for res, coarser in (("m", "h"), ("h", "d")):
        if start >= floor(now - keep[res], res) + STEP[res]:
            return start
        start = ceil(start, coarser)
    return max(start, ceil(now - keep["d"], "d"))


def plan(since: datetime, now: datetime, keep: dict[str, timedelta] = KEEP) -> list[Span]:
    """Spans whose buckets cover [since, now) once each: days, then hours, then minutes at the edges.

    The bucket of the current minute is included (it holds the checks up to `now`).
    """
    end = floor(now, "m") + MINUTE
    start = effective_start(since, now, keep)
    return _cover(start, end, ("d", "h", "m"))
