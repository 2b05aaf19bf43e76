"""The monitor state machine: UP, DOWN, PENDING (failed, retries left) and MAINTENANCE.

`next_state` is a pure function so that every rule here is tested as a table and the
actor that calls it only loads, decides and persists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.model import CheckResult, Decision, FailureClass, MonitorSnapshot, State


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retries: int = 0  # failed checks spent in PENDING before DOWN
    upside_down: bool = False


def next_state(
    prev: MonitorSnapshot | None,
    result: CheckResult,
    policy: RetryPolicy,
    in_maintenance: bool,
    now: datetime,
) -> Decision:
    """Decide the state after one check.

    - Maintenance wins: the monitor shows MAINTENANCE whatever the result (and opens no incident).
    - A success is UP at once.
    - A failure is PENDING while fewer than `retries` consecutive failures have been seen
      (counted from an UP, a new monitor or maintenance), then DOWN. A monitor already DOWN stays DOWN.
    - `upsideDown` inverts the result first.
    """
    ok = result.ok != policy.upside_down
    prev_state = prev.state if prev else None
    failures = 0 if ok else (prev.failures if prev and prev_state != State.MAINTENANCE else 0) + 1
    if in_maintenance:
        state = State.MAINTENANCE
    elif ok:
        state = State.UP
    elif prev_state == State.DOWN or failures > policy.retries:
        state = State.DOWN
    else:
        state = State.PENDING
    reason = result.reason if not ok or state != State.UP else (result.reason or "")
    if ok and policy.upside_down and not result.ok:
        reason = f"down as expected (upside down): {result.reason}"
    elif not ok and policy.upside_down and result.ok:
        reason = "reachable, but the monitor is upside down"
    changed = state != prev_state
    since = now if changed or prev is None else prev.since
    snap = MonitorSnapshot(
        state=state,
        since=since,
        failures=failures,
        reason=reason,
        failure=None if ok else (FailureClass.MISMATCH if policy.upside_down else result.failure),
    )
    return Decision(snapshot=snap, changed=changed, previous=prev_state, ok=ok)
