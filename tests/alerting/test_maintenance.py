"""Maintenance windows as tables: one-off and RRULE, in a time zone, across DST; which monitors."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.alerting.maintenance import WindowView, covering, occurrences_between
from app.resources.kinds import MaintenanceWindowSpec


@dataclass
class Mon:
    name: str = "checkout"
    namespace: str = "shop"
    labels: dict[str, str] = field(default_factory=lambda: {"team": "payments"})
    uid: str = "m-1"


def window(**spec: Any) -> WindowView:
    return WindowView("uid", "shop", "weekly", MaintenanceWindowSpec.model_validate(spec))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


WEEKLY_BERLIN = {
    "start": "2024-03-05T02:00:00",
    "duration": "2h",
    "timezone": "Europe/Berlin",
    "rrule": "FREQ=WEEKLY;BYDAY=TU",
}

ACTIVE = [
    pytest.param(
        {"start": "2024-05-01T10:00:00Z", "duration": "1h"},
        utc(2024, 5, 1, 10, 30),
        True,
        id="one-off-inside",
    ),
    pytest.param(
        {"start": "2024-05-01T10:00:00Z", "duration": "1h"},
        utc(2024, 5, 1, 10),
        True,
        id="one-off-start-inclusive",
    ),
    pytest.param(
        {"start": "2024-05-01T10:00:00Z", "duration": "1h"},
        utc(2024, 5, 1, 11),
        False,
        id="one-off-end-exclusive",
    ),
    pytest.param(
        {"start": "2024-05-01T10:00:00", "duration": "1h", "timezone": "America/New_York"},
        utc(2024, 5, 1, 14, 30),
        True,
        id="one-off-local-time-in-its-zone",
    ),
    pytest.param(
        {"start": "2024-05-01T10:00:00", "duration": "1h", "timezone": "America/New_York"},
        utc(2024, 5, 1, 10, 30),
        False,
        id="one-off-not-utc-when-zoned",
    ),
    # Berlin is UTC+1 in winter, UTC+2 in summer: 02:00 local is 01:00Z, then 00:00Z.
    pytest.param(WEEKLY_BERLIN, utc(2024, 3, 19, 1, 30), True, id="weekly-winter-0200-local"),
    pytest.param(WEEKLY_BERLIN, utc(2024, 4, 2, 0, 30), True, id="weekly-summer-0200-local"),
    pytest.param(WEEKLY_BERLIN, utc(2024, 4, 2, 2, 30), False, id="weekly-summer-after-the-end"),
    pytest.param(WEEKLY_BERLIN, utc(2024, 4, 3, 0, 30), False, id="weekly-wrong-day"),
    pytest.param(WEEKLY_BERLIN, utc(2024, 3, 4, 1, 30), False, id="weekly-before-the-first"),
    pytest.param(
        {**WEEKLY_BERLIN, "rrule": "FREQ=WEEKLY;BYDAY=TU;COUNT=2"},
        utc(2024, 3, 19, 1, 30),
        False,
        id="count-limits-occurrences",
    ),
    pytest.param(
        {"start": "2024-01-01T23:00:00Z", "duration": "3h", "rrule": "FREQ=DAILY"},
        utc(2024, 6, 2, 1),
        True,
        id="daily-across-midnight",
    ),
]


@pytest.mark.parametrize(("spec", "now", "active"), ACTIVE)
def test_window_active(spec: dict[str, Any], now: datetime, active: bool) -> None:
    assert window(**spec).active(now) is active


SELECTS = [
    pytest.param({}, Mon(), True, id="no-selector-no-list-is-the-whole-namespace"),
    pytest.param({}, Mon(namespace="other"), False, id="other-namespace-not-covered"),
    pytest.param({"monitorSelector": {"matchLabels": {"team": "payments"}}}, Mon(), True, id="selector"),
    pytest.param(
        {"monitorSelector": {"matchLabels": {"team": "search"}}}, Mon(), False, id="selector-differs"
    ),
    pytest.param({"monitors": [{"name": "checkout"}]}, Mon(), True, id="listed"),
    pytest.param({"monitors": [{"name": "cart"}]}, Mon(), False, id="list-without-selector-is-only-the-list"),
    pytest.param(
        {"monitors": [{"name": "checkout", "namespace": "other"}]},
        Mon(namespace="other"),
        True,
        id="listed-in-another-namespace",
    ),
    pytest.param(
        {"monitors": [{"name": "cart"}], "monitorSelector": {"matchLabels": {"team": "payments"}}},
        Mon(),
        True,
        id="list-plus-selector",
    ),
]


@pytest.mark.parametrize(("extra", "monitor", "covered"), SELECTS)
def test_window_selects(extra: dict[str, Any], monitor: Mon, covered: bool) -> None:
    w = window(start="2024-05-01T10:00:00Z", duration="1h", **extra)
    assert (covering([w], monitor, utc(2024, 5, 1, 10, 30)) is w) is covered


def test_occurrences_and_next_start_for_status_pages() -> None:
    spec = MaintenanceWindowSpec.model_validate(WEEKLY_BERLIN)
    # Europe moves to summer time on 31 March 2024: 02:00 local is 01:00Z before, 00:00Z after.
    assert occurrences_between(spec, utc(2024, 3, 20), utc(2024, 4, 10)) == [
        (utc(2024, 3, 26, 1), utc(2024, 3, 26, 3)),
        (utc(2024, 4, 2, 0), utc(2024, 4, 2, 2)),
        (utc(2024, 4, 9, 0), utc(2024, 4, 9, 2)),
    ]
    assert window(**WEEKLY_BERLIN).next_start(utc(2024, 3, 20)) == utc(2024, 3, 26, 1)
    assert window(start="2024-05-01T10:00:00Z", duration="1h").next_start(utc(2024, 6, 1)) is None


# -- recurrence: one rule for validation and run time, aware in the window's zone -------------------
UNTIL = [
    pytest.param("FREQ=DAILY;UNTIL=20240510T000000Z", utc(2024, 5, 9, 0, 30), True, id="until-utc-inside"),
    # 02:00 Berlin (CEST) is 00:00Z: an UNTIL of exactly that instant includes that day's occurrence.
    pytest.param(
        "FREQ=DAILY;UNTIL=20240510T000000Z", utc(2024, 5, 10, 0, 30), True, id="until-utc-inclusive"
    ),
    pytest.param("FREQ=DAILY;UNTIL=20240510T000000Z", utc(2024, 5, 11, 0, 30), False, id="until-utc-after"),
    pytest.param(
        "FREQ=DAILY;UNTIL=20240510T020000", utc(2024, 5, 10, 0, 30), True, id="until-local-inclusive"
    ),
    pytest.param("FREQ=DAILY;UNTIL=20240510T020000", utc(2024, 5, 11, 0, 30), False, id="until-local-after"),
    pytest.param("FREQ=DAILY;UNTIL=20240510", utc(2024, 5, 9, 0, 30), True, id="until-local-date"),
]


@pytest.mark.parametrize(("rule", "now", "active"), UNTIL)
def test_until_in_utc_or_local_time_is_honoured(rule: str, now: datetime, active: bool) -> None:
    spec = {"start": "2024-05-01T02:00:00", "duration": "1h", "timezone": "Europe/Berlin", "rrule": rule}
    assert window(**spec).active(now) is active


def test_a_window_that_validates_is_kept_by_alerting() -> None:
    from app.alerting.config import build_config

    @dataclass
    class Rec:
        spec: dict[str, Any]
        uid: str = "w-1"
        kind: str = "MaintenanceWindow"
        namespace: str = "shop"
        name: str = "nightly"
        generation: int = 1
        status: dict[str, Any] = field(default_factory=dict)

    spec = {"start": "2024-05-01T02:00:00", "duration": "1h", "timezone": "Europe/Berlin",
            "rrule": "FREQ=DAILY;UNTIL=20240601T000000Z"}  # fmt: skip
    MaintenanceWindowSpec.model_validate(spec)
    cfg = build_config([Rec(spec)])
    assert cfg.maintenance(Mon(), utc(2024, 5, 20, 0, 30)) is not None


# Rules whose occurrences the incremental lookup must reproduce exactly (brute force: dateutil from dtstart).
EQUIVALENT = [
    ("2015-03-05T02:00:00", "Europe/Berlin", "FREQ=DAILY", 3600),
    ("2015-03-05T02:30:00", "Europe/Berlin", "FREQ=HOURLY", 600),
    ("2015-03-05T02:30:00", "Europe/Berlin", "FREQ=HOURLY;INTERVAL=5;BYHOUR=1,3,6,11", 600),
    ("2015-03-05T02:00:00", "America/New_York", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SA", 7200),
    ("2015-03-31T02:00:00", "Europe/Berlin", "FREQ=MONTHLY", 7200),
    ("2015-03-05T02:00:00", "Europe/Berlin", "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1", 7200),
    ("2015-02-28T23:00:00", "UTC", "FREQ=YEARLY;INTERVAL=2", 86400 * 3),
    ("2015-03-05T02:00:00", "Europe/Berlin", "FREQ=MINUTELY;INTERVAL=7;BYHOUR=2,3", 120),
    ("2015-03-05T02:00:00", "Europe/Berlin", "FREQ=DAILY;COUNT=4000", 3600),
    ("2015-03-05T02:00:00Z", "Asia/Kolkata", "FREQ=DAILY;INTERVAL=3;UNTIL=20260101T000000Z", 90000),
    ("2015-03-05T02:00:00", "Australia/Lord_Howe", "FREQ=HOURLY;INTERVAL=2", 5400),
]


@pytest.mark.parametrize(("start", "tz", "rule", "seconds"), EQUIVALENT, ids=[e[2] for e in EQUIVALENT])
def test_incremental_lookup_matches_the_full_expansion(start: str, tz: str, rule: str, seconds: int) -> None:
    from dateutil.rrule import rrulestr

    spec = {"start": start, "duration": f"{seconds}s", "timezone": tz, "rrule": rule}
    w = window(**spec)
    zone = ZoneInfo(tz)
    parsed = datetime.fromisoformat(start.replace("Z", "+00:00"))
    local = parsed.astimezone(zone) if parsed.tzinfo else parsed.replace(tzinfo=zone)
    full = rrulestr(rule, dtstart=local)
    lo, hi = utc(2025, 10, 20), utc(2025, 11, 5)  # across the autumn change in Europe and America
    expected = [(s.astimezone(UTC), s.astimezone(UTC) + timedelta(seconds=seconds))
                for s in full.between(lo - timedelta(seconds=seconds), hi, inc=True)]  # fmt: skip
    expected = [(s, e) for s, e in expected if s < hi and e > lo]
    assert w.occurrences(lo, hi) == expected[:1000]
    now = lo
    while now < hi:  # every 17 minutes, the same answer as the full expansion
        truth = any(s <= now < e for s, e in expected)
        assert w.active(now) is truth, now
        now += timedelta(minutes=17)


def test_lookup_cost_does_not_grow_with_the_window_age() -> None:
    # Before: every check expanded the rule from its start (~0.1-0.2 s for an hourly window of 2016).
    w = window(start="2016-01-01T00:15:00", duration="10m", timezone="Europe/Berlin", rrule="FREQ=HOURLY")
    now = utc(2026, 3, 29, 0, 0)  # crossing the spring change, too
    t0 = time.perf_counter()
    for _ in range(40):
        w.active(now)
        now += timedelta(minutes=7)
    assert time.perf_counter() - t0 < 0.5


def test_lookup_is_consistent_across_threads() -> None:
    w = window(start="2016-01-01T00:00:00", duration="20m", rrule="FREQ=HOURLY")
    errors: list[datetime] = []

    def worker(offset: int) -> None:
        now = utc(2026, 1, 1) + timedelta(minutes=offset)
        for _ in range(300):
            if w.active(now) is not (now.minute < 20):
                errors.append(now)
            now += timedelta(minutes=3)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_status_page_expansion_is_bounded() -> None:
    w = window(start="2016-01-01T00:00:00", duration="1m", rrule="FREQ=MINUTELY")
    t0 = time.perf_counter()
    found = w.occurrences(utc(2026, 1, 1), utc(2026, 2, 1))  # 44,640 minutes
    assert len(found) == 1000 and found[0][0] == utc(2025, 12, 31, 23, 59) + timedelta(minutes=1)
    assert time.perf_counter() - t0 < 0.5


def test_a_long_duration_does_not_make_a_frequent_rule_expensive() -> None:
    # A minutely rule with a year-long duration: the span is recomputed every minute, and it
    # used to expand the whole year (525,600 steps) each time.
    w = window(start="2016-01-01T00:00:00", duration="365d", rrule="FREQ=MINUTELY;INTERVAL=5")
    now = utc(2026, 1, 1, 0, 2)
    t0 = time.perf_counter()
    for _ in range(10):
        assert w.active(now)
        now += timedelta(minutes=5)
    assert time.perf_counter() - t0 < 0.5
