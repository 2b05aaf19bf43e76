"""Maintenance windows as tables: one-off and RRULE, in a time zone, across DST; which monitors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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
