"""The pure parts of the dashboard: chart arithmetic, SVG marks and how values are written."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.http.dashboard.charts import (
    RANGES,
    Point,
    describe,
    history_bar,
    latency_chart,
    nice_ceiling,
    points,
    span_of,
    status_class,
    strip,
)
from app.http.dashboard.fmt import duration, ms, percent, when
from app.store.rollups import Counts
from app.uptime.windows import STEP

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (Counts(), "none"),
        (Counts(up=5), "up"),
        (Counts(down=2), "down"),
        (Counts(up=3, down=1), "mixed"),
        (Counts(maintenance=4), "maint"),
        (Counts(up=1, maintenance=4), "up"),  # maintenance leaves the rest alone
    ],
    ids=["no-checks", "all-up", "all-down", "some-of-each", "only-maintenance", "up-with-maintenance"],
)
def test_status_class(counts: Counts, expected: str) -> None:
    assert status_class(counts) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (0.3, 0.5), (1, 1), (7, 10), (12, 20), (42, 50), (101, 200), (999, 1000)]
)
def test_nice_ceiling(value: float, expected: float) -> None:
    assert nice_ceiling(value) == pytest.approx(expected)


def test_points_sum_groups_and_fill_gaps() -> None:
    buckets = {
        T0: Counts(1, 0, 0, 20.0, 1),
        T0 + MIN: Counts(0, 1, 0, 40.0, 1),
        T0 + 5 * MIN: Counts(1, 0, 0, 10, 1),
    }
    pts = points(buckets, T0, T0 + 6 * MIN, MIN, 3)
    assert [(p.start, p.end) for p in pts] == [(T0, T0 + 3 * MIN), (T0 + 3 * MIN, T0 + 6 * MIN)]
    assert pts[0].counts == Counts(1, 1, 0, 60.0, 2) and pts[0].ratio == 0.5 and pts[0].latency_ms == 30.0
    assert pts[1].counts == Counts(1, 0, 0, 10.0, 1)


@pytest.mark.parametrize(("name", "count"), [("1h", 60), ("24h", 96), ("7d", 168), ("30d", 120)])
def test_every_range_has_a_fixed_number_of_points_ending_with_now(name: str, count: int) -> None:
    rng = RANGES[name]
    now = T0 + timedelta(minutes=17, seconds=5)
    start, end = span_of(rng, now)
    assert start < now < end and end - start == rng.length
    assert len(points({}, start, end, STEP[rng.resolution], rng.group)) == count


def test_describe_says_what_a_point_holds() -> None:
    p = Point(T0, T0 + 15 * MIN, Counts(up=14, down=1, maintenance=0, latency_sum=300.0, latency_count=15))
    assert describe(p) == "05-01 12:00–05-01 12:15 UTC: 93.3 % up, 1 down, 15 checks, 20 ms avg"
    assert describe(Point(T0, T0 + MIN, Counts()), long=False) == "12:00–12:01 UTC: no checks"


def test_latency_chart_has_axes_a_line_and_a_tip_per_point() -> None:
    pts = [Point(T0 + i * MIN, T0 + (i + 1) * MIN, Counts(1, 0, 0, 10.0 * (i + 1), 1)) for i in range(4)]
    pts.insert(2, Point(T0 + 9 * MIN, T0 + 10 * MIN, Counts()))  # a gap: the line breaks there
    svg = str(latency_chart(pts, 'latency of "web" <b>', long=False))
    assert svg.count('class="hit"') == 5 and svg.count("<title>") == 5
    assert re.search(r'd="M[\d.,]+ L[\d.,]+ M[\d.,]+ L[\d.,]+"', svg)  # two segments around the gap
    assert ">0 ms<" in svg and ">50 ms<" in svg  # axis up to the round ceiling of 40 ms
    assert 'aria-label="latency of &#34;web&#34; &lt;b&gt;"' in svg


def test_history_bar_and_strip_colour_every_cell() -> None:
    pts = [Point(T0, T0 + MIN, Counts(up=1)), Point(T0 + MIN, T0 + 2 * MIN, Counts(down=1))]
    bar = str(history_bar(pts, "status", long=False))
    assert 'class="s-up"' in bar and 'class="s-down"' in bar
    cells = str(strip([Counts(up=60), None, Counts(up=59, down=1)], ["10:00", "11:00", "12:00"], "strip"))
    assert re.findall(r'class="b-(\w+)"', cells) == ["up", "none", "mixed"]
    assert "10:00 UTC: 100 % up of 60" in cells and "11:00 UTC: no checks" in cells
    assert "12:00 UTC: 98.3 % up of 60" in cells


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (0, "0 s"), (59.9, "59 s"), (60, "1 min"), (3599, "59 min"), (3600, "1 h"),
     (3900, "1 h 5 min"), (86400, "1 d"), (90000, "1 d 1 h")],
)  # fmt: skip
def test_duration(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_small_formats() -> None:
    assert ms(None) == "—" and ms(7.25) == "7.2 ms" and ms(42.6) == "43 ms"
    assert percent(None) == "—" and percent(1.0) == "100 %" and percent(0.99987) == "99.98 %"
    assert when(None) == "—" and when("2026-05-01T12:03:09Z") == "2026-05-01 12:03 UTC"
    assert when(datetime(2026, 5, 1, 14, 3, tzinfo=UTC)) == "2026-05-01 14:03 UTC"
