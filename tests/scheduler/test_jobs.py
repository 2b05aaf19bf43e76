"""The scheduler: even spread, following the resource cache, the in-flight guard, leadership."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.catalog import Catalog
from app.coord import LocalGuard
from app.resources.registry import parse_resource
from app.scheduler.jobs import EPOCH, MonitorScheduler, phase_offset, planned_time
from app.store import ResourceRecord, Store
from tests.integration.test_embedded import wait_for


def monitor(name: str, interval: str = "1s", enabled: bool = True) -> ResourceRecord:
    res = parse_resource(
        {
            "apiVersion": "kubekuma.io/v1alpha1",
            "kind": "Monitor",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {
                "type": "tcp",
                "interval": interval,
                "timeout": "1s",
                "enabled": enabled,
                "tcp": {"host": "127.0.0.1", "port": 9},
            },
        }
    )
    return ResourceRecord(
        uid=res.uid, kind="Monitor", namespace="ns", name=name, spec=res.raw_spec, spec_hash=res.spec_hash
    )


class Recorder:
    """Stands where the broker would be: records what was enqueued and when."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, float]] = []
        self.tokens: dict[str, str] = {}
        self.lock = threading.Lock()

    def __call__(self, uid: str, generation: int, planned: float, timeout: float, token: str) -> None:
        with self.lock:
            self.calls.append((uid, planned, time.time()))
            self.tokens[uid] = token

    def finish(self, guard: LocalGuard, uid: str) -> None:
        """What the worker does when the check is recorded: release the mark with its token."""
        with self.lock:
            guard.release(uid, self.tokens[uid])

    def count(self, uid: str) -> int:
        with self.lock:
            return sum(1 for c in self.calls if c[0] == uid)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Store, MonitorScheduler, Recorder, LocalGuard]]:
    store = Store(f"sqlite:///{tmp_path / 'kk.db'}")
    rec, guard = Recorder(), LocalGuard()
    sched = MonitorScheduler(
        Catalog(store, ttl=0.1), rec, guard, guard_ttl=lambda timeout: 30.0, poll_interval=0.1
    )
    yield store, sched, rec, guard
    sched.shutdown()
    store.close()


def test_phases_spread_monitors_evenly_over_the_interval() -> None:
    offsets = [phase_offset(f"uid-{i}", 60.0) for i in range(6000)]
    assert all(0 <= o < 60 for o in offsets)
    per_6s = Counter(int(o // 6) for o in offsets)
    assert sorted(per_6s) == list(range(10))
    assert max(per_6s.values()) < 700 and min(per_6s.values()) > 500  # 600 each, give or take
    assert phase_offset("same", 60.0) == phase_offset("same", 60.0)


@pytest.mark.parametrize("now_offset", [0.0, 0.5, 59.9, 60.0, 12345.6])
def test_planned_time_is_the_latest_phase_point(now_offset: float) -> None:
    start = EPOCH.timestamp() + phase_offset("m", 60.0)
    now = start + 10_000 * 60 + now_offset
    planned = planned_time("m", 60.0, now)
    assert planned <= now < planned + 60
    assert abs(((planned - start) / 60) - round((planned - start) / 60)) < 1e-6


def test_jobs_follow_the_resource_cache(setup: Any) -> None:
    store, sched, rec, guard = setup
    a, b = monitor("a"), monitor("b")
    store.resources.sync([a, b])
    sched.start(leading=True)
    assert sched.job_count() == 2
    wait_for("both enqueued", lambda: rec.count(a.uid) and rec.count(b.uid), timeout=3)

    c = monitor("c")
    store.resources.sync([a, b, c])  # added
    wait_for("c scheduled", lambda: sched.job_count() == 3, timeout=3)
    store.resources.sync([a, monitor("b", enabled=False), c])  # disabled
    wait_for("b unscheduled", lambda: sched.job_count() == 2 and sched.next_run(b.uid) is None, timeout=3)
    store.resources.sync([monitor("a", interval="1h"), c])  # changed interval, b deleted
    wait_for(
        "a rescheduled",
        lambda: sched.next_run(a.uid) is not None and sched.next_run(a.uid).timestamp() - time.time() > 5,
        timeout=3,
    )  # type: ignore[union-attr]

    rec.finish(guard, c.uid)
    seen_b = rec.count(b.uid)
    time.sleep(1.5)
    assert rec.count(b.uid) == seen_b  # nothing for a deleted monitor


def test_never_a_second_check_while_one_is_in_flight(setup: Any) -> None:
    store, sched, rec, guard = setup
    m = monitor("busy")
    store.resources.sync([m])
    sched.start(leading=True)
    wait_for("first enqueue", lambda: rec.count(m.uid) == 1, timeout=3)
    time.sleep(2.2)  # two more ticks pass while the check is "running"
    assert rec.count(m.uid) == 1 and sched.stats.skipped_inflight >= 2
    rec.finish(guard, m.uid)  # the worker finished
    wait_for("the next tick enqueues again", lambda: rec.count(m.uid) == 2, timeout=3)


def test_in_flight_marks_expire_by_themselves(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'kk.db'}")
    rec = Recorder()
    sched = MonitorScheduler(
        Catalog(store, ttl=0.1), rec, LocalGuard(), guard_ttl=lambda timeout: 1.5, poll_interval=0.1
    )
    m = monitor("lost")
    store.resources.sync([m])
    sched.start(leading=True)
    try:
        # Nobody ever releases (a worker died holding the mark): after the TTL the monitor is checked again.
        wait_for("a second enqueue after the mark expired", lambda: rec.count(m.uid) >= 2, timeout=5)
    finally:
        sched.shutdown()
        store.close()


def test_only_the_leader_enqueues(setup: Any) -> None:
    store, sched, rec, guard = setup
    m = monitor("m")
    store.resources.sync([m])
    sched.start(leading=False)
    time.sleep(1.5)
    assert rec.calls == [] and sched.job_count() == 1  # a standby keeps its jobs up to date, paused
    sched.lead()
    wait_for("enqueued once leading", lambda: rec.count(m.uid) >= 1, timeout=3)
    sched.follow()
    rec.finish(guard, m.uid)
    n = rec.count(m.uid)
    time.sleep(1.5)
    assert rec.count(m.uid) == n


def test_planned_times_match_the_phase(setup: Any) -> None:
    store, sched, rec, _guard = setup
    m = monitor("p", interval="2s")
    store.resources.sync([m])
    sched.start(leading=True)
    wait_for("enqueued", lambda: rec.count(m.uid) >= 1, timeout=4)
    _uid, planned, actual = rec.calls[0]
    assert actual >= planned  # never early
    assert planned == pytest.approx(planned_time(m.uid, 2.0, actual))


def test_a_monitor_added_while_running_is_checked_within_seconds(setup: Any) -> None:
    """As Uptime Kuma checks on save: a 6-hour monitor added now is not first checked hours later."""
    store, sched, rec, guard = setup
    old = monitor("old", interval="6h")
    store.resources.sync([old])
    sched.start(leading=True)
    time.sleep(0.3)
    assert rec.count(old.uid) == 0  # the schedule at start keeps its slots (no stampede)

    new = monitor("new", interval="6h")
    store.resources.sync([old, new])
    wait_for("the new monitor checked", lambda: rec.count(new.uid) == 1, timeout=3)
    assert rec.count(old.uid) == 0

    rec.finish(guard, new.uid)
    changed = monitor("new", interval="6h")
    changed.spec = {**changed.spec, "timeout": "2s"}  # type: ignore[dict-item]
    changed.spec_hash = "edited"
    store.resources.sync([old, changed])
    wait_for("the edited monitor checked again", lambda: rec.count(new.uid) == 2, timeout=3)


def test_a_standby_taking_over_starts_from_now(setup: Any) -> None:
    """After a standby the monitors' planned times lie in the past; replaying every missed one would
    stall the new leader. Each is checked once, at its next planned time from the takeover on."""
    store, sched, rec, _guard = setup
    ms = [monitor(f"m{i}", interval="1s") for i in range(20)]
    store.resources.sync(ms)
    sched.start(leading=False)
    time.sleep(2.5)  # every monitor misses two planned times while standing by
    assert rec.calls == []

    took_over = time.time()
    sched.lead()

    for m in ms:
        nxt = sched.next_run(m.uid)
        assert nxt is not None and took_over <= nxt.timestamp() <= took_over + 1.0
    wait_for("every monitor checked once", lambda: all(rec.count(m.uid) >= 1 for m in ms), timeout=3)
    first = {}
    for uid, planned, _actual in rec.calls:
        first.setdefault(uid, planned)
    assert all(planned >= took_over - 1e-3 for planned in first.values())  # nothing missed is replayed
