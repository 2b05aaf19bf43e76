"""Window names, uptime text, day bars, page banners and retention: what a visitor and an operator read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from app.uptime import Overall, Totals, day_bars, format_percent, history_days, overall_status, parse_window
from app.uptime.retention import DEFAULT_HEARTBEATS, heartbeat_retention, retention_plan

NOW = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("90m", timedelta(minutes=90)),
        ("730d", timedelta(days=730)),
    ],
    ids=["24h", "7d", "90m", "730d"],
)
def test_windows_by_name(text: str, length: timedelta) -> None:
    assert parse_window(text) == length


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("week", "not a window"),
        ("24", "not a window"),
        ("0h", "out of range"),
        ("731d", "out of range"),
        ("5s", "not a window"),
    ],
    ids=["word", "no-unit", "zero", "too-long", "seconds"],
)
def test_bad_windows_say_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_window(text)


@pytest.mark.parametrize(
    ("ratio", "text"),
    [
        (1.0, "100"),
        (0.99999, "99.99"),
        (0.9995, "99.95"),
        (0.99987, "99.98"),
        (0.5, "50.00"),
        (0.0, "0.00"),
        (None, None),
    ],
    ids=["perfect", "never-rounds-up-to-100", "exact-float", "truncates", "half", "zero", "no-data"],
)
def test_percentages_are_truncated_never_rounded_up(ratio: float | None, text: str | None) -> None:
    assert format_percent(ratio) == text


def test_totals_leave_maintenance_out_of_the_ratio() -> None:
    t = Totals(up=3, down=1, maintenance=6, latency_sum=100.0, latency_count=4)
    assert (t.ratio, t.checks, t.avg_latency_ms) == (0.75, 10, 25.0)
    assert Totals(maintenance=5).ratio is None
    assert t.plus(t).up == 6


def test_day_bars_end_today_and_show_days_without_data() -> None:
    bars = day_bars(
        {date(2024, 5, 1): Totals(up=99, down=1), date(2024, 4, 29): Totals(maintenance=3)}, 5, NOW
    )
    assert [b.day.isoformat() for b in bars] == [
        "2024-04-27",
        "2024-04-28",
        "2024-04-29",
        "2024-04-30",
        "2024-05-01",
    ]
    # the history starts with the first checks (maintenance counts as checked): before them, no history
    assert [b.level for b in bars] == ["before", "before", "maintenance", "none", "minor"]
    assert bars[-1].to_json()["uptimePercent"] == "99.00"
    assert history_days(bars) == 3


def test_a_history_older_than_the_bars_has_no_day_before_it() -> None:
    older = {date(2024, 4, 26): Totals(up=1), date(2024, 5, 1): Totals(up=1)}
    assert [b.level for b in day_bars(older, 5, NOW)] == ["none", "none", "none", "none", "ok"]
    assert {b.level for b in day_bars({}, 5, NOW)} == {"before"}, "never checked: no history at all"


@pytest.mark.parametrize(
    ("ratio", "level"),
    [(1.0, "ok"), (0.999, "ok"), (0.995, "minor"), (0.98, "major")],
    ids=["all-up", "three-nines", "below-99.9", "below-99"],
)
def test_bar_levels(ratio: float, level: str) -> None:
    up = round(ratio * 1000)
    assert day_bars({NOW.date(): Totals(up=up, down=1000 - up)}, 1, NOW)[0].level == level


@pytest.mark.parametrize(
    ("states", "maintenance", "overall"),
    [
        (["UP", "UP"], False, Overall.OPERATIONAL),
        (["UP", "PENDING"], False, Overall.OPERATIONAL),
        (["UP", "DOWN"], False, Overall.PARTIAL_OUTAGE),
        (["DOWN", "DOWN"], False, Overall.MAJOR_OUTAGE),
        (["DOWN", "MAINTENANCE"], False, Overall.MAJOR_OUTAGE),
        (["UP", "MAINTENANCE"], False, Overall.MAINTENANCE),
        (["UP", "UP"], True, Overall.MAINTENANCE),
        (["UP", None], False, Overall.OPERATIONAL),
        ([None, None], False, Overall.UNKNOWN),
        ([], False, Overall.UNKNOWN),
    ],
    ids=[
        "all-up",
        "pending-is-not-an-outage",
        "one-down",
        "all-down",
        "down-rest-in-maintenance",
        "one-in-maintenance",
        "window-active",
        "unchecked-ignored",
        "nothing-checked",
        "empty",
    ],
)
def test_the_banner(states: list[str | None], maintenance: bool, overall: Overall) -> None:
    assert overall_status(states, maintenance) is overall


def test_heartbeat_retention_comes_from_the_default_settings() -> None:
    settings = [
        SimpleNamespace(name="other", spec={"retention": {"heartbeats": "1d"}}),
        SimpleNamespace(name="default", spec={"retention": {"heartbeats": "7d"}}),
    ]
    assert heartbeat_retention(settings) == timedelta(days=7)
    assert heartbeat_retention([]) == DEFAULT_HEARTBEATS
    assert heartbeat_retention(
        [SimpleNamespace(name="default", spec={"retention": {"heartbeats": "soon"}})]
    ) == (DEFAULT_HEARTBEATS)
    plan = retention_plan(NOW, timedelta(days=7))
    assert plan.heartbeats == NOW - timedelta(days=7)
    assert plan.rollups == {
        "m": NOW - timedelta(hours=48),
        "h": NOW - timedelta(days=90),
        "d": NOW - timedelta(days=730),
    }
