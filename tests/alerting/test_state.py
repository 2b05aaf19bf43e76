"""next_state as a table: the state a user sees after each check, and whether it is a transition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.alerting.state import RetryPolicy, next_state
from app.model import CheckResult, FailureClass, MonitorSnapshot, State

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(minutes=7)

OK = CheckResult.up(latency_ms=12.5)
FAIL = CheckResult.down(FailureClass.TIMEOUT, "timed out after 5s")

UP, DOWN, PENDING, MAINT = State.UP, State.DOWN, State.PENDING, State.MAINTENANCE


def was(state: State, failures: int = 0) -> MonitorSnapshot:
    return MonitorSnapshot(state=state, since=EARLIER, failures=failures)


# prev, result, retries, in maintenance -> state, failures, changed
TABLE = [
    # a new monitor
    pytest.param(None, OK, 0, False, UP, 0, True, id="new-success-is-up"),
    pytest.param(None, FAIL, 0, False, DOWN, 1, True, id="new-failure-no-retries-is-down"),
    pytest.param(None, FAIL, 1, False, PENDING, 1, True, id="new-failure-retries1-is-pending"),
    pytest.param(None, FAIL, 2, False, PENDING, 1, True, id="new-failure-retries2-is-pending"),
    # from UP
    pytest.param(was(UP), OK, 0, False, UP, 0, False, id="up-stays-up"),
    pytest.param(was(UP), FAIL, 0, False, DOWN, 1, True, id="up-failure-no-retries-is-down"),
    pytest.param(was(UP), FAIL, 1, False, PENDING, 1, True, id="up-failure-retries1-is-pending"),
    pytest.param(was(UP), FAIL, 2, False, PENDING, 1, True, id="up-failure-retries2-is-pending"),
    # spending retries
    pytest.param(was(PENDING, 1), FAIL, 1, False, DOWN, 2, True, id="pending1-retries1-is-down"),
    pytest.param(was(PENDING, 1), FAIL, 2, False, PENDING, 2, False, id="pending1-retries2-stays-pending"),
    pytest.param(was(PENDING, 2), FAIL, 2, False, DOWN, 3, True, id="pending2-retries2-is-down"),
    pytest.param(was(PENDING, 1), OK, 2, False, UP, 0, True, id="pending-success-is-up"),
    # DOWN stays DOWN until a success, whatever the retries
    pytest.param(was(DOWN, 1), FAIL, 0, False, DOWN, 2, False, id="down-stays-down"),
    pytest.param(was(DOWN, 1), FAIL, 5, False, DOWN, 2, False, id="down-stays-down-when-retries-raised"),
    pytest.param(was(DOWN, 3), OK, 2, False, UP, 0, True, id="down-success-is-up"),
    # maintenance wins over any result
    pytest.param(was(UP), OK, 0, True, MAINT, 0, True, id="up-enters-maintenance"),
    pytest.param(was(UP), FAIL, 0, True, MAINT, 1, True, id="failure-in-maintenance-is-maintenance"),
    pytest.param(was(DOWN, 2), FAIL, 0, True, MAINT, 3, True, id="down-enters-maintenance"),
    pytest.param(None, FAIL, 0, True, MAINT, 1, True, id="new-in-maintenance"),
    pytest.param(was(MAINT, 4), FAIL, 0, True, MAINT, 1, False, id="maintenance-restarts-the-count"),
    # leaving maintenance: failures are counted afresh
    pytest.param(was(MAINT, 4), FAIL, 1, False, PENDING, 1, True, id="after-maintenance-retries-apply-again"),
    pytest.param(was(MAINT, 4), FAIL, 0, False, DOWN, 1, True, id="after-maintenance-no-retries-is-down"),
    pytest.param(was(MAINT, 4), OK, 1, False, UP, 0, True, id="after-maintenance-success-is-up"),
]


@pytest.mark.parametrize(("prev", "result", "retries", "maintenance", "state", "failures", "changed"), TABLE)
def test_next_state(
    prev: MonitorSnapshot | None,
    result: CheckResult,
    retries: int,
    maintenance: bool,
    state: State,
    failures: int,
    changed: bool,
) -> None:
    decision = next_state(prev, result, RetryPolicy(retries=retries), maintenance, NOW)

    assert decision.snapshot.state == state
    assert decision.snapshot.failures == failures
    assert decision.changed is changed
    assert decision.previous == (prev.state if prev else None)
    assert decision.ok is result.ok
    # `since` moves only when the state changes (or the monitor is new)
    assert decision.snapshot.since == (NOW if changed else EARLIER)


@pytest.mark.parametrize(
    ("result", "reason", "failure"),
    [
        pytest.param(
            FAIL, "timed out after 5s", FailureClass.TIMEOUT, id="failure-keeps-its-reason-and-class"
        ),
        pytest.param(CheckResult.up(reason="200 OK"), "200 OK", None, id="success-keeps-its-reason"),
        pytest.param(OK, "", None, id="success-without-reason"),
    ],
)
def test_reason_and_failure_class_come_from_the_result(
    result: CheckResult, reason: str, failure: FailureClass | None
) -> None:
    snap = next_state(was(UP), result, RetryPolicy(), False, NOW).snapshot

    assert (snap.reason, snap.failure) == (reason, failure)


@pytest.mark.parametrize(
    ("prev", "result", "retries", "state", "ok", "reason", "failure"),
    [
        pytest.param(
            was(UP),
            FAIL,
            0,
            UP,
            True,
            "down as expected (upside down): timed out after 5s",
            None,
            id="unreachable-is-up",
        ),
        pytest.param(
            was(UP),
            OK,
            0,
            DOWN,
            False,
            "reachable, but the monitor is upside down",
            FailureClass.MISMATCH,
            id="reachable-is-down",
        ),
        pytest.param(
            was(UP),
            OK,
            1,
            PENDING,
            False,
            "reachable, but the monitor is upside down",
            FailureClass.MISMATCH,
            id="reachable-spends-retries",
        ),
        pytest.param(
            was(DOWN, 1),
            FAIL,
            0,
            UP,
            True,
            "down as expected (upside down): timed out after 5s",
            None,
            id="down-recovers-when-target-goes-away",
        ),
    ],
)
def test_upside_down_inverts_the_result(
    prev: MonitorSnapshot,
    result: CheckResult,
    retries: int,
    state: State,
    ok: bool,
    reason: str,
    failure: FailureClass | None,
) -> None:
    decision = next_state(prev, result, RetryPolicy(retries=retries, upside_down=True), False, NOW)

    assert decision.snapshot.state == state
    assert decision.ok is ok
    assert decision.snapshot.reason == reason
    assert decision.snapshot.failure == failure


def test_a_run_of_failures_with_two_retries() -> None:
    """UP, then failures: PENDING, PENDING, DOWN, DOWN; then a success: UP. Only four transitions."""
    policy = RetryPolicy(retries=2)
    snap: MonitorSnapshot | None = None
    seen = []
    for minute, result in enumerate([OK, FAIL, FAIL, FAIL, FAIL, OK]):
        decision = next_state(snap, result, policy, False, NOW + timedelta(minutes=minute))
        seen.append((decision.snapshot.state, decision.changed))
        snap = decision.snapshot

    assert seen == [
        (UP, True),
        (PENDING, True),
        (PENDING, False),
        (DOWN, True),
        (DOWN, False),
        (UP, True),
    ]
    assert snap is not None
    assert snap.since == NOW + timedelta(minutes=5)


def test_the_previous_snapshot_is_not_modified() -> None:
    prev = was(PENDING, 1)

    next_state(prev, FAIL, RetryPolicy(retries=1), False, NOW)

    assert prev == MonitorSnapshot(state=PENDING, since=EARLIER, failures=1)
