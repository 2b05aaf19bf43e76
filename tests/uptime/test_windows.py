"""Window plans: every minute of [since, now) is counted once, from the coarsest buckets retention keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.uptime import KEEP, plan
from app.uptime.windows import STEP, effective_start, floor

NOW = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)


def minutes_covered(spans: list, now: datetime = NOW) -> list[datetime]:  # type: ignore[type-arg]
    """Every minute the spans stand for, in order (a day bucket stands for its 1440 minutes)."""
    out = []
    for s in spans:
        t = s.start
        while t < s.end:
            out.append(t)
            t += timedelta(minutes=1)
    return sorted(out)


@pytest.mark.parametrize(
    "length",
    [
        timedelta(minutes=1),
        timedelta(minutes=59),
        timedelta(hours=1),
        timedelta(hours=2, minutes=13),
        timedelta(hours=24),
        timedelta(hours=47),
        timedelta(days=7),
        timedelta(days=30),
        timedelta(days=90),
        timedelta(days=365),
    ],
    ids=["1m", "59m", "1h", "2h13m", "24h", "47h", "7d", "30d", "90d", "365d"],
)
def test_a_window_counts_each_minute_once_and_nothing_outside(length: timedelta) -> None:
    spans = plan(NOW - length, NOW)
    minutes = minutes_covered(spans)
    assert len(minutes) == len(set(minutes)), "no minute counted twice"
    start = effective_start(NOW - length, NOW)
    expected = int((floor(NOW, "m") + timedelta(minutes=1) - start) / timedelta(minutes=1))
    assert minutes[0] == start and minutes[-1] == floor(NOW, "m")
    assert len(minutes) == expected, "no gap between start and the current minute"
    for s in spans:  # every span is aligned to its resolution
        assert floor(s.start, s.resolution) == s.start and floor(s.end, s.resolution) == s.end


@pytest.mark.parametrize(
    ("length", "max_rows"),
    [
        (timedelta(hours=24), 24 + 2 * 60),
        (timedelta(days=7), 7 + 2 * 24 + 60),
        (timedelta(days=90), 90 + 2 * 24 + 60),
        (timedelta(days=730), 730 + 24 + 60),
    ],
    ids=["24h", "7d", "90d", "2y"],
)
def test_a_window_reads_few_buckets_whatever_its_length(length: timedelta, max_rows: int) -> None:
    assert sum(s.buckets for s in plan(NOW - length, NOW)) <= max_rows


@pytest.mark.parametrize(
    ("length", "start"),
    [
        (
            timedelta(hours=24),
            datetime(2024, 4, 30, 12, 30, tzinfo=UTC),
        ),  # minute rows kept: exact to the minute
        (timedelta(days=7), datetime(2024, 4, 24, 13, 0, tzinfo=UTC)),  # past 48 h: next full hour
        (timedelta(days=90), datetime(2024, 2, 1, 13, 0, tzinfo=UTC)),  # hour rows still kept at 90 d
        (timedelta(days=200), datetime(2023, 10, 15, 0, 0, tzinfo=UTC)),  # past 90 d: next full day
        (timedelta(days=1000), datetime(2022, 5, 3, 0, 0, tzinfo=UTC)),  # nothing older than 2 y exists
    ],
    ids=["24h-minute-exact", "7d-hour", "90d-hour", "200d-day", "1000d-clamped-to-2y"],
)
def test_where_a_window_starts_follows_retention(length: timedelta, start: datetime) -> None:
    assert effective_start(NOW - length, NOW) == start


def test_no_span_reaches_into_pruned_rows() -> None:
    for length in (timedelta(hours=30), timedelta(days=3), timedelta(days=89), timedelta(days=400)):
        for s in plan(NOW - length, NOW):
            assert s.start >= NOW - KEEP[s.resolution], (length, s)


def test_the_current_minute_is_included_and_the_future_is_not() -> None:
    spans = plan(NOW - timedelta(minutes=5), NOW)
    assert [(s.resolution, s.start.minute, s.end.minute) for s in spans] == [("m", 25, 31)]
    assert STEP["m"] * spans[0].buckets == timedelta(minutes=6)
