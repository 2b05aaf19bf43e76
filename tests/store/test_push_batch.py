"""Pushes recorded together (the web's group commit): the run's start, the last push, deleted monitors.

Runs once on SQLite and once on PostgreSQL (see `db_url` in tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.alerting.state import RetryPolicy, next_state
from app.model import CheckResult, Decision, FailureClass, MonitorSnapshot
from app.store import PushToRecord, Store
from tests.store.test_store import rec

NOW = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)


def push(uid: str, ok: bool, at: datetime) -> PushToRecord:
    def make(started: datetime | None) -> CheckResult:
        run_ms = (at - started).total_seconds() * 1000 if started else None
        if ok:
            return CheckResult.up(latency_ms=run_ms, reason="push received")
        return CheckResult.down(FailureClass.PUSHED_DOWN, "the job reported down", latency_ms=run_ms)

    def decide(result: CheckResult, prev: MonitorSnapshot | None) -> Decision:
        return next_state(prev, result, RetryPolicy(), False, at)

    return PushToRecord(uid, make, decide, at)


def test_pushes_recorded_together_take_the_start_once_and_note_the_last_push(store: Store) -> None:
    store.push.mark_start("job", NOW)
    t1, t2 = NOW + timedelta(seconds=30), NOW + timedelta(seconds=31)

    out = store.push.record_pushes([push("job", True, t1), push("other", False, t1), push("job", False, t2)])

    assert [r.decision.snapshot.state if r else None for r in out] == ["UP", "DOWN", "DOWN"]
    beats = store.checks.heartbeats("job")  # newest first
    assert [h.latency_ms for h in beats] == [None, 30_000.0]  # the run time goes to the first push only
    assert store.push.last_push("job") == t2 and store.push.last_push("other") == t1
    store.push.mark_start("job", t2)
    [again] = store.push.record_pushes([push("job", True, t2 + timedelta(seconds=5))])
    assert again is not None and store.checks.heartbeats("job")[0].latency_ms == 5_000.0


def test_a_push_for_a_deleted_monitor_records_nothing_and_the_others_go_in(store: Store) -> None:
    store.resources.sync([rec("gone"), rec("kept")])
    gone, kept = "uid-Monitor-gone", "uid-Monitor-kept"
    store.push.record_pushes([push(gone, True, NOW)])
    store.resources.sync([rec("kept")])

    later = NOW + timedelta(minutes=1)
    out = store.push.record_pushes([push(gone, False, later), push(kept, True, later)])

    assert out[0] is None and out[1] is not None
    assert store.push.last_push(gone) == NOW  # not moved by the push that came too late
    assert store.checks.states([gone]) == {} and store.incidents.open_for(gone) is None
    assert store.push.last_push(kept) == later
