"""Durations as manifests write them ('90s', '1h30m') and as the API shows them back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.resources.common import format_duration, parse_duration
from app.resources.kinds import Retention


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("30s", 30.0, id="seconds"),
        pytest.param("5m", 300.0, id="minutes"),
        pytest.param("1h", 3600.0, id="hours"),
        pytest.param("7d", 604800.0, id="days"),
        pytest.param("2w", 1209600.0, id="weeks"),
        pytest.param("250ms", 0.25, id="milliseconds"),
        pytest.param("1.5s", 1.5, id="fraction"),
        pytest.param("1h30m", 5400.0, id="compound"),
        pytest.param("1d2h3m4s", 93784.0, id="every-unit"),
        pytest.param("1m500ms", 60.5, id="minutes-and-ms"),
        pytest.param(" 5m ", 300.0, id="surrounding-spaces"),
        pytest.param("0", 0.0, id="bare-zero"),
        pytest.param(45, 45.0, id="int-is-seconds"),
        pytest.param(0.5, 0.5, id="float-is-seconds"),
        pytest.param(timedelta(minutes=2), 120.0, id="timedelta"),
    ],
)
def test_parse_duration_accepts(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("", "a duration is a string such as 30s, 5m or 1h", id="empty"),
        pytest.param("   ", "a duration is a string such as 30s, 5m or 1h", id="blank"),
        pytest.param(None, "a duration is a string such as 30s, 5m or 1h", id="none"),
        pytest.param(True, "a duration is a string such as 30s, 5m or 1h", id="bool"),
        pytest.param([30], "a duration is a string such as 30s, 5m or 1h", id="list"),
        pytest.param(-1, "a duration cannot be negative", id="negative-number"),
        pytest.param("abc", "'abc' is not a duration; use a number with ms, s, m, h, d or w", id="words"),
        pytest.param("5x", "'5x' is not a duration", id="unknown-unit"),
        pytest.param("m5", "'m5' is not a duration", id="unit-first"),
        pytest.param("-5s", "'-5s' is not a duration", id="negative-text"),
        pytest.param("1h 30m", "'1h 30m' is not a duration", id="inner-space"),
        pytest.param("5s5", "'5s5' is not a duration", id="trailing-number"),
        pytest.param("1y", "'1y' is not a duration", id="years"),
    ],
)
def test_parse_duration_rejects_with_a_hint(value: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(0, "0s", id="zero"),
        pytest.param(0.25, "250ms", id="sub-second"),
        pytest.param(1, "1s", id="one-second"),
        pytest.param(90, "1m30s", id="minute-and-a-half"),
        pytest.param(3600, "1h", id="hour-has-no-zero-parts"),
        pytest.param(5400, "1h30m", id="hour-and-a-half"),
        pytest.param(90061, "1d1h1m1s", id="every-unit"),
        pytest.param(604800, "7d", id="week-is-days"),
        pytest.param(59.6, "1m", id="rounds-to-whole-seconds"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["30s", "5m", "1h30m", "1d1h1m1s", "250ms", "7d"])
def test_format_then_parse_round_trips(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


def test_duration_fields_read_text_and_show_it_back_in_json() -> None:
    retention = Retention.model_validate({"heartbeats": "14d", "incidents": "1h30m"})

    assert retention.heartbeats == 14 * 86400
    assert retention.model_dump(mode="json") == {
        "heartbeats": "14d",
        "incidents": "1h30m",
        "deliveries": "90d",
        "audit": "365d",
    }
    # In Python the value stays a number of seconds.
    assert retention.model_dump()["incidents"] == 5400.0
