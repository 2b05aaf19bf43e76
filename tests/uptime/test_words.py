"""How a status page words durations, incident spans and maintenance recurrences."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.uptime.words import duration_text, recurrence_text, span_text

T = datetime(2026, 5, 1, 18, 13, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(0, "0 s", id="zero"),
        pytest.param(35, "35 s", id="under-a-minute"),
        pytest.param(59.6, "59 s", id="truncated-not-rounded-up"),
        pytest.param(60, "1 min", id="one-minute"),
        pytest.param(14 * 60 + 20, "14 min 20 s", id="minutes-and-seconds"),
        pytest.param(14 * 60, "14 min", id="whole-minutes"),
        pytest.param(2 * 3600 + 5 * 60 + 9, "2 h 5 min", id="hours-drop-seconds"),
        pytest.param(3 * 86400 + 4 * 3600, "3 d 4 h", id="days"),
    ],
)
def test_duration_text(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [
        pytest.param(T, T.replace(second=40), "2026-05-01 18:13:05 – 18:13:40 UTC", id="same-minute-seconds"),
        pytest.param(T, T.replace(minute=27), "2026-05-01 18:13 – 18:27 UTC", id="same-day"),
        pytest.param(T, T.replace(day=2, hour=1), "2026-05-01 18:13 – 2026-05-02 01:13 UTC", id="two-days"),
        pytest.param(T, None, "since 2026-05-01 18:13 UTC", id="open"),
    ],
)
def test_span_text(start: datetime, end: datetime | None, text: str) -> None:
    assert span_text(start, end) == text


@pytest.mark.parametrize(
    ("rule", "start", "tz", "text"),
    [
        pytest.param("FREQ=DAILY", "2024-01-01T03:00:00", "UTC", "daily at 03:00 UTC", id="daily"),
        pytest.param("FREQ=DAILY;INTERVAL=2", "2024-01-01T03:00:00", "UTC", "every 2 days at 03:00 UTC",
                     id="every-other-day"),
        pytest.param("FREQ=WEEKLY;BYDAY=SU", "2024-01-07T02:00:00", "Europe/Berlin",
                     "weekly on Sunday at 02:00 Europe/Berlin", id="weekly-zone"),
        pytest.param("FREQ=WEEKLY;BYDAY=MO,WE,FR", "2024-01-01T22:30:00", "UTC",
                     "weekly on Monday, Wednesday and Friday at 22:30 UTC", id="weekdays"),
        pytest.param("FREQ=WEEKLY", "2024-01-03T01:00:00", "UTC", "weekly on Wednesday at 01:00 UTC",
                     id="weekly-day-of-start"),
        pytest.param("FREQ=MONTHLY;BYMONTHDAY=1", "2024-01-01T04:00:00", "UTC",
                     "monthly on day 1 at 04:00 UTC", id="monthly"),
        pytest.param("FREQ=HOURLY", "2024-01-01T00:15:00", "UTC", "every hour at :15", id="hourly"),
        pytest.param("FREQ=MINUTELY;INTERVAL=30", "2024-01-01T00:00:00", "UTC", "every 30 minutes",
                     id="minutely"),
        pytest.param("FREQ=DAILY;COUNT=3", "2024-01-01T03:00:00", "UTC", "daily at 03:00 UTC, 3 times",
                     id="count"),
        pytest.param("FREQ=MONTHLY;BYDAY=1SU", "2024-01-07T03:00:00", "UTC",
                     "repeats (FREQ=MONTHLY;BYDAY=1SU)", id="beyond-words"),
    ],
)  # fmt: skip
def test_recurrence_text(rule: str, start: str, tz: str, text: str) -> None:
    assert recurrence_text(rule, datetime.fromisoformat(start), tz) == text
