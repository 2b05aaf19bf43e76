"""The coordination.k8s.io/v1 Lease, client-go style, and two schedulers contending for it."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from app.catalog import Catalog
from app.controller.kube import KubeLease
from app.coord import Elector, LocalGuard
from app.scheduler import MonitorScheduler
from tests.kube.conftest import monitor, wait_for

pytestmark = pytest.mark.timeout(60)

LEASE_S, RENEW_DEADLINE, RETRY = 1.0, 0.6, 0.1


def lease_spec(api: Any) -> dict[str, Any]:
    return (api.get("leases", "kubekuma", "kubekuma-scheduler") or {}).get("spec") or {}


def make(kube: Any, identity: str) -> KubeLease:
    return KubeLease(kube, "kubekuma", "kubekuma-scheduler", identity, LEASE_S)


def test_the_first_candidate_creates_the_lease_and_others_wait(apiserver, kube) -> None:
    a, b = make(kube, "a"), make(kube, "b")

    assert a.try_acquire_or_renew() is True
    assert b.try_acquire_or_renew() is False
    spec = lease_spec(apiserver.api)
    assert (
        spec["holderIdentity"] == "a" and spec["leaseDurationSeconds"] == 1 and spec["leaseTransitions"] == 0
    )
    assert spec["acquireTime"] == spec["renewTime"] and spec["renewTime"].endswith("Z")

    first = spec["renewTime"]
    time.sleep(0.01)
    assert a.try_acquire_or_renew() is True  # a renewal moves renewTime only
    spec = lease_spec(apiserver.api)
    assert spec["renewTime"] > first and spec["acquireTime"] == first and spec["leaseTransitions"] == 0


def test_racing_candidates_lose_on_the_resource_version(apiserver, kube) -> None:
    candidates = [make(kube, f"c{i}") for i in range(6)]
    barrier = threading.Barrier(len(candidates))
    results: dict[str, bool] = {}

    def go(lease: KubeLease) -> None:
        barrier.wait()
        results[lease.identity] = lease.try_acquire_or_renew()

    threads = [threading.Thread(target=go, args=(c,)) for c in candidates]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    winners = [k for k, v in results.items() if v]
    assert len(winners) == 1
    assert lease_spec(apiserver.api)["holderIdentity"] == winners[0]


def test_a_standby_takes_over_once_the_lease_expires_and_counts_the_transition(apiserver, kube) -> None:
    a, b = make(kube, "a"), make(kube, "b")
    a.try_acquire_or_renew()
    assert b.try_acquire_or_renew() is False  # b starts its own clock on what it saw
    start = time.monotonic()

    waited = wait_for("b to take over", b.try_acquire_or_renew, timeout=3)

    took = time.monotonic() - start
    assert waited and LEASE_S * 0.9 <= took < LEASE_S + 0.5
    spec = lease_spec(apiserver.api)
    assert spec["holderIdentity"] == "b" and spec["leaseTransitions"] == 1
    assert a.try_acquire_or_renew() is False  # the old holder sees b's fresh record and waits


def test_release_hands_over_at_once(apiserver, kube) -> None:
    a, b = make(kube, "a"), make(kube, "b")
    a.try_acquire_or_renew()
    assert b.try_acquire_or_renew() is False

    a.release()

    assert "holderIdentity" not in lease_spec(apiserver.api)
    assert b.try_acquire_or_renew() is True
    b.release()
    a.release()  # not the holder: nothing changes
    assert a.holder() is None


class Killable:
    """A lease whose process can be 'killed': it stops renewing and never releases."""

    def __init__(self, lease: KubeLease) -> None:
        self.lease, self.identity, self.dead = lease, lease.identity, False

    def try_acquire_or_renew(self) -> bool:
        if self.dead:
            raise ConnectionError("process killed")
        return self.lease.try_acquire_or_renew()

    def release(self) -> None:
        if not self.dead:
            self.lease.release()


def test_two_schedulers_contend_and_only_the_holder_schedules(apiserver, kube, start_controller) -> None:
    ctl = start_controller()
    for i in range(5):
        apiserver.api.create("monitors", "shop", monitor(f"m{i}", interval="1s"))
    wait_for("five monitors", lambda: len(ctl.store.resources.list(kind="Monitor")) == 5)

    sent: list[tuple[str, float]] = []  # (scheduler, time)
    lock = threading.Lock()
    parts: dict[str, tuple[MonitorScheduler, Elector, Killable]] = {}
    timeline: list[tuple[float, str, str]] = []
    for name in ("s1", "s2"):

        def enqueue(uid: str, *args: Any, who: str = name) -> None:
            with lock:
                sent.append((who, time.monotonic()))

        sched = MonitorScheduler(
            Catalog(ctl.store, ttl=0.05), enqueue, LocalGuard(), lambda t: 0.5, poll_interval=0.05
        )
        sched.start(leading=False)
        lease = Killable(make(kube, name))

        def started(s: MonitorScheduler = sched, who: str = name) -> None:
            timeline.append((time.monotonic(), who, "lead"))
            s.lead()

        def stopped(s: MonitorScheduler = sched, who: str = name) -> None:
            timeline.append((time.monotonic(), who, "follow"))
            s.follow()

        elector = Elector(lease, started, stopped, RENEW_DEADLINE, RETRY)
        parts[name] = (sched, elector, lease)
    try:
        for _, elector, _ in parts.values():
            elector.start()
        wait_for("a leader", lambda: any(e.leading for _, e, _ in parts.values()))
        for _ in range(20):  # never two at once
            assert sum(e.leading for _, e, _ in parts.values()) == 1
            time.sleep(0.05)
        leader = next(n for n, (_, e, _) in parts.items() if e.leading)
        standby = next(n for n in parts if n != leader)
        wait_for("checks from the leader", lambda: len(sent) >= 5, timeout=5)
        assert {who for who, _ in sent} == {leader}

        killed_at = time.monotonic()
        parts[leader][2].dead = True  # stops renewing, never releases
        wait_for("the standby to lead", lambda: parts[standby][1].leading, timeout=LEASE_S + 2)
        takeover = time.monotonic() - killed_at
        assert takeover < LEASE_S + 2 * RETRY + 0.5

        # The old leader stopped scheduling (renew deadline) before the new one started (lease expiry).
        stop_t = next(t for t, who, what in timeline if who == leader and what == "follow")
        lead_t = next(t for t, who, what in timeline if who == standby and what == "lead")
        assert stop_t < lead_t
        wait_for("checks from the new leader", lambda: any(who == standby for who, _ in sent), timeout=3)
        assert not [t for who, t in sent if who == leader and t > stop_t + 0.05]
    finally:
        for sched, elector, _ in parts.values():
            elector.stop(timeout=2)
            sched.shutdown()
