"""Flapping as tables: the weighted percent state change and the hysteresis around it."""

from __future__ import annotations

import pytest

from app.alerting.flapping import FlapChange, FlapThresholds, down_history, flap_change, percent_state_change

U, D = False, True  # a check's value: DOWN or not


def seq(text: str) -> list[bool]:
    return [c == "D" for c in text]


PERCENT = [
    pytest.param("UUUUUUUUUUUUUUUUUUUUU", 0.0, id="stable-up"),
    pytest.param("DDDDDDDDDDDDDDDDDDDDD", 0.0, id="stable-down"),
    pytest.param("UDUDUDUDUDUDUDUDUDUDU", 100.0, id="every-check-changes"),
    pytest.param("UUUUUUUUUUUUUUUUUUUUD", 6.25, id="one-newest-change-weighs-1.25"),
    pytest.param("UDDDDDDDDDDDDDDDDDDDD", 3.75, id="one-oldest-change-weighs-0.75"),
    pytest.param("UUUUUUUUUUUUUUUUUUD", 6.25, id="short-history-aligns-to-the-newest"),
    pytest.param("U", 0.0, id="single-check"),
    pytest.param("", 0.0, id="no-checks"),
    pytest.param("UUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUUD", 6.25, id="only-the-last-21-count"),
]


@pytest.mark.parametrize(("history", "percent"), PERCENT)
def test_percent_state_change(history: str, percent: float) -> None:
    assert percent_state_change(seq(history)) == pytest.approx(percent)


def test_three_quick_outages_start_flapping_and_calm_checks_end_it() -> None:
    th = FlapThresholds()
    storm = seq("UUUUUUUUUUUUUUDUDUDUD")  # three outages in the last seven checks
    assert percent_state_change(storm) > th.high
    assert flap_change(False, percent_state_change(storm), th) is FlapChange.STARTED
    # A few calm checks are not enough (hysteresis); once the outages leave the window, it has settled.
    assert flap_change(True, percent_state_change(storm + seq("U" * 6)), th) is None
    assert flap_change(True, percent_state_change(storm + seq("U" * 18)), th) is FlapChange.ENDED


HYSTERESIS = [
    pytest.param(False, 29.0, None, id="below-high-does-not-start"),
    pytest.param(False, 31.0, FlapChange.STARTED, id="above-high-starts"),
    pytest.param(True, 20.0, None, id="between-low-and-high-keeps-flapping"),
    pytest.param(True, 15.0, None, id="at-low-keeps-flapping"),
    pytest.param(True, 14.9, FlapChange.ENDED, id="below-low-ends"),
    pytest.param(False, 20.0, None, id="between-thresholds-does-not-start"),
]


@pytest.mark.parametrize(("was", "percent", "change"), HYSTERESIS)
def test_hysteresis(was: bool, percent: float, change: FlapChange | None) -> None:
    assert flap_change(was, percent, FlapThresholds(high=30.0, low=15.0)) is change


def test_history_from_heartbeats_ignores_maintenance_and_counts_pending_as_not_down() -> None:
    newest_first = ["UP", "MAINTENANCE", "DOWN", "PENDING", "UP"]
    assert down_history(newest_first) == [U, U, D, U]
