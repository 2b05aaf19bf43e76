"""In-flight guards and leases, local and on a real Redis; the Elector stepped with a fake clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from app.coord import (
    Elector,
    InflightGuard,
    LocalGuard,
    LocalLease,
    LocalLiveness,
    RedisGuard,
    RedisLease,
    RedisLiveness,
)  # fmt: skip

# --- in-flight guards ----------------------------------------------------------------------------


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["local", "redis"])
def guard(request: pytest.FixtureRequest) -> InflightGuard:
    if request.param == "local":
        return LocalGuard()
    client = request.getfixturevalue("redis_client")
    ns = request.getfixturevalue("redis_ns")
    return RedisGuard(client, f"{ns}:inflight:", RedisLiveness(client, f"{ns}:"))


def beat(guard: InflightGuard, *workers: str) -> None:
    """Workers beat while they run; a holder that never beats counts as dead."""
    if isinstance(guard, RedisGuard):
        for w in workers:
            guard._live.beat(w)  # type: ignore[union-attr]


def test_a_guard_admits_one_check_at_a_time(guard: InflightGuard) -> None:
    token = guard.acquire("m1", ttl_s=30)

    assert token
    assert guard.acquire("m1", ttl_s=30) is None
    assert guard.acquire("m2", ttl_s=30)  # other monitors are independent


def test_only_the_tokens_owner_releases_or_extends(guard: InflightGuard) -> None:
    token = guard.acquire("m1", ttl_s=30)
    assert token

    guard.release("m1", "someone-elses-token")
    assert guard.extend("m1", "someone-elses-token", 60) is False
    assert guard.acquire("m1", ttl_s=30) is None  # still held

    guard.release("m1", token)
    assert guard.acquire("m1", ttl_s=30)
    guard.release("never-acquired", token)  # harmless


def test_a_message_that_waited_past_its_mark_skips_its_check(guard: InflightGuard) -> None:
    """Overload: the first message's mark expired in the queue, so the scheduler sent a second one."""
    beat(guard, "worker-a", "worker-b")
    old = guard.acquire("m1", ttl_s=0.05)
    assert old
    time.sleep(0.1)
    new = guard.acquire("m1", ttl_s=30)
    assert new

    assert guard.rearm("m1", old, 30, "worker-a") is False  # the stale message runs nothing
    assert guard.rearm("m1", new, 30, "worker-b") is True
    assert guard.extend("m1", old, 60) is False
    guard.release("m1", old)  # nor can it free the newer check's mark
    assert guard.acquire("m1", ttl_s=30) is None


def test_the_same_message_delivered_twice_runs_once(guard: InflightGuard) -> None:
    beat(guard, "worker-a", "worker-b")
    token = guard.acquire("m1", ttl_s=30)
    assert token

    assert guard.rearm("m1", token, 30, "worker-a") is True
    assert guard.rearm("m1", token, 30, "worker-b") is False  # a second copy, while the first runs
    assert guard.rearm("m1", token, 30, "worker-a") is True  # the holder may re-arm


def test_a_retry_parks_the_mark_for_the_next_worker(guard: InflightGuard) -> None:
    beat(guard, "worker-a", "worker-b")
    token = guard.acquire("m1", ttl_s=30)
    assert token
    assert guard.rearm("m1", token, 30, "worker-a")

    assert guard.park("m1", token, 30) is True  # PENDING: the retry goes back to the queue
    assert guard.acquire("m1", ttl_s=30) is None  # the schedule does not double up
    assert guard.rearm("m1", token, 30, "worker-b") is True  # whoever takes the retry runs it


def test_the_mark_lives_from_the_workers_start(guard: InflightGuard) -> None:
    beat(guard, "worker-a")
    token = guard.acquire("m1", ttl_s=0.3)
    assert token
    time.sleep(0.2)
    assert guard.rearm("m1", token, 0.4, "worker-a")  # the check starts: its TTL counts from now
    time.sleep(0.2)
    assert guard.acquire("m1", ttl_s=30) is None  # enqueue time + 0.3 s has passed; start + 0.4 s has not
    time.sleep(0.3)
    assert guard.acquire("m1", ttl_s=30)


def test_a_batchs_marks_are_rearmed_extended_and_released_together(guard: InflightGuard) -> None:
    """The *_many calls answer as their single-mark counterparts would, mark by mark."""
    beat(guard, "worker-a")
    t1, t2 = guard.acquire("m1", 30), guard.acquire("m2", 30)
    stale = guard.acquire("m3", 0.05)
    assert t1 and t2 and stale
    time.sleep(0.1)
    newer = guard.acquire("m3", 30)
    assert newer

    armed = guard.rearm_many([("m1", t1, 30), ("m3", stale, 30), ("m2", t2, 30)], "worker-a")

    assert armed == [True, False, True]  # the stale token loses; the others are the batch's
    guard.extend_many([("m1", t1), ("m2", t2), ("m3", stale)], 60)
    assert guard.acquire("m1", 30) is None and guard.acquire("m2", 30) is None
    guard.release_many([("m1", t1), ("m2", t2), ("m3", stale)])
    assert guard.acquire("m1", 30) and guard.acquire("m2", 30)
    assert guard.acquire("m3", 30) is None, "a stale token releases nothing"
    assert guard.rearm_many([], "worker-a") == []


def test_acquire_many_answers_each_monitor_as_acquire_would(guard: InflightGuard) -> None:
    held = guard.acquire("held", ttl_s=30)
    assert held

    tokens = guard.acquire_many(["a", "held", "b", "a"], [30, 30, 30, 30])

    assert [t is not None for t in tokens] == [True, False, True, False]  # a second "a" finds the first
    assert len({tokens[0], tokens[2]}) == 2  # a token of its own each
    assert guard.acquire("a", ttl_s=30) is None and guard.acquire("b", ttl_s=30) is None
    assert guard.acquire_many([], []) == []
    # The tokens are the marks' owners: the worker re-arms and releases with them.
    beat(guard, "worker-a")
    assert tokens[0] and guard.rearm("a", tokens[0], 30, "worker-a")
    guard.release("a", tokens[0])
    assert guard.acquire("a", ttl_s=30)


def test_acquire_many_on_redis_frees_dead_holders_and_sets_a_ttl_per_mark(
    redis_client: redis.Redis, redis_ns: str
) -> None:
    live = RedisLiveness(redis_client, f"{redis_ns}:")
    guard = RedisGuard(redis_client, f"{redis_ns}:inflight:", live)
    live.beat("worker-a")
    live.beat("worker-b")
    for uid, worker in (("dead-held", "worker-a"), ("live-held", "worker-b")):
        token = guard.acquire(uid, ttl_s=60)
        assert token and guard.rearm(uid, token, 60, worker)
    queued = guard.acquire("queued", ttl_s=60)  # enqueued, no worker has it yet
    assert queued
    redis_client.delete(f"{redis_ns}:alive:worker-a")  # worker-a was SIGKILLed

    tokens = guard.acquire_many(["free", "dead-held", "live-held", "queued"], [10, 20, 60, 60])

    assert [t is not None for t in tokens] == [True, True, False, False]
    assert redis_client.get(f"{redis_ns}:inflight:free") == f"{tokens[0]}|".encode()
    assert redis_client.get(f"{redis_ns}:inflight:dead-held") == f"{tokens[1]}|".encode()
    assert 9_000 < redis_client.pttl(f"{redis_ns}:inflight:free") <= 10_000
    assert 19_000 < redis_client.pttl(f"{redis_ns}:inflight:dead-held") <= 20_000
    assert redis_client.get(f"{redis_ns}:inflight:queued") == f"{queued}|".encode()  # untouched


def test_local_guard_expires_by_itself() -> None:
    clock = FakeClock()
    guard = LocalGuard(clock)
    guard.acquire("m1", ttl_s=30)

    clock.now += 29.9
    assert guard.acquire("m1", ttl_s=30) is None
    clock.now += 0.1
    assert guard.acquire("m1", ttl_s=30)


def test_redis_guard_mark_carries_its_ttl(redis_client: redis.Redis, redis_ns: str) -> None:
    guard = RedisGuard(redis_client, prefix=f"{redis_ns}:inflight:")
    token = guard.acquire("m1", ttl_s=30)

    assert 29_000 < redis_client.pttl(f"{redis_ns}:inflight:m1") <= 30_000
    assert token and guard.extend("m1", token, 60)
    assert 59_000 < redis_client.pttl(f"{redis_ns}:inflight:m1") <= 60_000


def test_a_dead_workers_checks_are_free_at_once_and_listed(redis_client: redis.Redis, redis_ns: str) -> None:
    live = RedisLiveness(redis_client, f"{redis_ns}:")
    guard = RedisGuard(redis_client, f"{redis_ns}:inflight:", live)
    live.beat("worker-a")
    live.beat("worker-b")
    for uid, worker in (("m1", "worker-a"), ("m2", "worker-a"), ("m3", "worker-b")):
        token = guard.acquire(uid, ttl_s=60)
        assert token and guard.rearm(uid, token, 60, worker)
    assert guard.acquire("m1", 60) is None and guard.orphans() == []

    redis_client.delete(f"{redis_ns}:alive:worker-a")  # worker-a was SIGKILLed: its beat lapses

    assert sorted(guard.orphans()) == ["m1", "m2"]
    assert guard.orphans() == []  # handed out once
    assert guard.acquire("m1", 60)  # its marks are free without waiting out the 60 s
    assert guard.acquire("m3", 60) is None  # worker-b's are not


def test_liveness_forgets_nobody_that_beats(redis_client: redis.Redis, redis_ns: str) -> None:
    live = RedisLiveness(redis_client, f"{redis_ns}:")
    live.beat("w1")
    assert live.alive("w1") and not live.alive("w2") and not live.alive("")
    assert live.dead() == []
    local = LocalLiveness(FakeClock())
    local.beat("me")
    assert local.alive("me") and not local.alive("a-previous-run")


# --- Redis leases ------------------------------------------------------------------------------------

LEASE_S = 0.5


@pytest.fixture
def lease_pair(redis_client: redis.Redis, redis_ns: str) -> Iterator[tuple[RedisLease, RedisLease]]:
    a = RedisLease(redis_client, redis_ns, "scheduler-a", lease_duration=LEASE_S)
    b = RedisLease(redis_client, redis_ns, "scheduler-b", lease_duration=LEASE_S)
    yield a, b
    redis_client.delete(a.key)


def wait_until(condition: Callable[[], bool], timeout: float = 3.0, every: float = 0.05) -> float:
    """Seconds it took for `condition` to hold; fails the test after `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"still not true after {timeout}s")
        time.sleep(every)
    return time.monotonic() - start


def test_only_one_identity_holds_the_lease(lease_pair: tuple[RedisLease, RedisLease]) -> None:
    a, b = lease_pair

    assert a.try_acquire_or_renew() is True
    assert b.try_acquire_or_renew() is False
    assert a.holder() == b.holder() == "scheduler-a"


def test_renewing_keeps_the_lease(lease_pair: tuple[RedisLease, RedisLease]) -> None:
    a, b = lease_pair
    a.try_acquire_or_renew()

    for _ in range(3):  # 0.6 s in all: longer than the lease lasts without renewal
        time.sleep(LEASE_S * 0.4)
        assert a.try_acquire_or_renew() is True
        assert b.try_acquire_or_renew() is False

    assert a.holder() == "scheduler-a"


def test_a_standby_takes_over_once_the_holder_stops_renewing(
    lease_pair: tuple[RedisLease, RedisLease],
) -> None:
    a, b = lease_pair
    a.try_acquire_or_renew()
    start = time.monotonic()

    waited = wait_until(b.try_acquire_or_renew)

    assert time.monotonic() - start >= LEASE_S * 0.8  # not before the lease ran out
    assert waited < LEASE_S + 1.0
    assert b.holder() == "scheduler-b"
    assert a.try_acquire_or_renew() is False  # the old holder cannot renew its way back


def test_release_hands_over_at_once(lease_pair: tuple[RedisLease, RedisLease]) -> None:
    a, b = lease_pair
    a.try_acquire_or_renew()

    a.release()

    assert a.holder() is None
    assert b.try_acquire_or_renew() is True


def test_only_the_holder_can_release(lease_pair: tuple[RedisLease, RedisLease]) -> None:
    a, b = lease_pair
    a.try_acquire_or_renew()

    b.release()

    assert a.holder() == "scheduler-a"
    assert b.try_acquire_or_renew() is False


def test_local_lease_always_leads() -> None:
    lease = LocalLease()

    assert lease.try_acquire_or_renew() is True
    lease.release()
    assert lease.try_acquire_or_renew() is True


# --- Elector -------------------------------------------------------------------------------------------


class Unreachable(Exception):
    pass


class ScriptedLease:
    """Answers try_acquire_or_renew from a script: True, False, or an exception to raise."""

    identity = "test"

    def __init__(self) -> None:
        self.answer: bool | Exception = True
        self.released = 0

    def try_acquire_or_renew(self) -> bool:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def release(self) -> None:
        self.released += 1


class Harness:
    def __init__(self, renew_deadline: float = 10.0) -> None:
        self.clock = FakeClock(0.0)
        self.lease = ScriptedLease()
        self.events: list[str] = []
        self.elector = Elector(
            self.lease,
            on_started=lambda: self.events.append("started"),
            on_stopped=lambda: self.events.append("stopped"),
            renew_deadline=renew_deadline,
            retry_period=2.0,
            clock=self.clock,
        )

    def step(self, answer: bool | Exception, advance: float = 2.0) -> bool:
        self.clock.now += advance
        self.lease.answer = answer
        return self.elector.step()


def test_elector_starts_once_and_keeps_leading_while_renewing() -> None:
    h = Harness()

    assert [h.step(True) for _ in range(4)] == [True, True, True, True]

    assert h.events == ["started"]
    assert h.elector.leading is True


def test_elector_standby_does_not_start_while_denied() -> None:
    h = Harness()

    assert [h.step(False) for _ in range(3)] == [False, False, False]
    assert h.events == []

    assert h.step(True) is True
    assert h.events == ["started"]


def test_a_denied_renew_stops_leading_at_once() -> None:
    h = Harness()
    h.step(True)

    assert h.step(False, advance=0.5) is False

    assert h.events == ["started", "stopped"]
    assert h.step(False) is False
    assert h.events == ["started", "stopped"]  # stopped fires once


def test_an_unreachable_store_keeps_leading_until_the_renew_deadline() -> None:
    h = Harness(renew_deadline=10.0)
    h.step(True)  # renewed at t=2

    leading = [h.step(Unreachable("connection refused")) for _ in range(4)]  # t=4, 6, 8, 10
    assert leading == [True, True, True, True]
    assert h.events == ["started"]

    assert h.step(Unreachable("connection refused")) is False  # t=12: 10 s since the last renew
    assert h.events == ["started", "stopped"]
    assert h.step(Unreachable("connection refused")) is False
    assert h.events == ["started", "stopped"]


def test_a_renew_before_the_deadline_keeps_leadership_without_callbacks() -> None:
    h = Harness(renew_deadline=10.0)
    h.step(True)
    h.step(Unreachable("timeout"), advance=9.0)

    assert h.step(True, advance=0.5) is True
    assert h.step(Unreachable("timeout"), advance=9.0) is True  # the deadline counts from the last renew

    assert h.events == ["started"]


def test_leadership_can_be_regained_after_losing_it() -> None:
    h = Harness()
    h.step(True)
    h.step(False)

    assert h.step(True) is True

    assert h.events == ["started", "stopped", "started"]


def test_run_stops_leading_and_releases_the_lease_on_stop() -> None:
    started, stopped = threading.Event(), threading.Event()
    lease = ScriptedLease()
    elector = Elector(lease, on_started=started.set, on_stopped=stopped.set, retry_period=0.01)

    elector.start()
    assert started.wait(2.0)
    elector.stop(timeout=2.0)

    assert stopped.is_set()
    assert elector.leading is False
    assert lease.released == 1
