"""The slot scheduler against a real Redis: one message per chunk of a slot's due monitors, each item
carrying its planned time and guard token, and the guards given back when a message cannot be sent."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import redis

from app.actors import Actors, Runtime, register_actors
from app.actors.broker import CHECK_QUEUE, make_broker
from app.actors.checks import guard_ttl, time_limit_s
from app.catalog import Catalog
from app.coord import RedisGuard, RedisLiveness
from app.resources.loader import SecretStore
from app.resources.registry import parse_resource
from app.scheduler import MonitorScheduler
from app.scheduler.jobs import planned_time
from app.store import ResourceRecord, Store
from tests.conftest import REDIS_URL

INTERVAL = 60.0


def monitor(name: str, timeout: str = "1s", interval: str = "60s") -> ResourceRecord:
    res = parse_resource(
        {
            "apiVersion": "kubekuma.io/v1alpha1",
            "kind": "Monitor",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"type": "tcp", "interval": interval, "timeout": timeout,
                     "tcp": {"host": "127.0.0.1", "port": 9}},
        }
    )  # fmt: skip
    return ResourceRecord(
        uid=res.uid, kind="Monitor", namespace="ns", name=name, spec=res.raw_spec, spec_hash=res.spec_hash
    )


class Site:
    """A store with monitors, a real Redis guard, and the real actors on a Redis broker in `ns`."""

    def __init__(self, tmp: Path, client: redis.Redis, ns: str, broker_url: str = REDIS_URL) -> None:
        self.store = Store(f"sqlite:///{tmp / 'kk.db'}")
        self.catalog = Catalog(self.store, ttl=0.05)
        self.client, self.ns = client, ns
        self.guard = RedisGuard(client, f"{ns}:inflight:", RedisLiveness(client, f"{ns}:"))
        self.broker = make_broker(broker_url, ns)
        self.actors: Actors = register_actors(
            self.broker, Runtime(self.store, self.catalog, SecretStore(), self.guard)
        )

    def scheduler(self, batch_max: int) -> MonitorScheduler:
        return MonitorScheduler(
            self.catalog, None, self.guard, guard_ttl,
            enqueue_batch=self.actors.enqueue_batch, batch_max=batch_max,
        )  # fmt: skip

    def messages(self) -> list[dramatiq.Message[Any]]:
        raw = self.client.hvals(f"{self.ns}:{CHECK_QUEUE}.msgs")
        return [dramatiq.Message.decode(m) for m in raw]

    def close(self) -> None:
        self.broker.close()
        self.store.close()


@pytest.fixture
def site(tmp_path: Path, redis_client: redis.Redis, redis_ns: str) -> Iterator[Site]:
    s = Site(tmp_path, redis_client, redis_ns)
    yield s
    s.close()


def test_a_slots_due_monitors_travel_in_capped_messages(site: Site) -> None:
    monitors = [monitor(f"m{i}") for i in range(230)] + [monitor(f"slow{i}", timeout="30s") for i in range(5)]
    site.store.resources.sync(monitors)
    sched = site.scheduler(batch_max=100)
    synced = time.time()
    sched.sync()
    after = time.time()

    # One tick a whole interval later: every monitor is due exactly once.
    enqueued = sched.run_slot(after + INTERVAL + 0.5)

    assert enqueued == 235 and sched.stats.enqueued == 235
    messages = site.messages()
    assert len(messages) == math.ceil(235 / 100) == sched.stats.messages
    assert all(m.actor_name == "check_batch" for m in messages)
    items = [item for m in messages for item in m.args[0]]
    assert sorted(i[0] for i in items) == sorted(m.uid for m in monitors)  # each monitor once
    for uid, generation, planned, token in items:
        assert generation == 1
        assert synced <= planned < after + INTERVAL  # its first planned time after the sync
        assert planned == pytest.approx(planned_time(uid, INTERVAL, planned + 1e-6), abs=1e-6)
        mark = site.client.get(f"{site.ns}:inflight:{uid}")
        assert mark == f"{token}|".encode()  # the worker re-arms with exactly this token
    # Similar timeouts share a message: the five 30 s monitors do not stretch two batches' time limit.
    limits = sorted(m.options["time_limit"] for m in messages)
    assert limits == [int(time_limit_s(1) * 1000)] * 2 + [int(time_limit_s(30) * 1000)]


def test_a_monitor_still_in_flight_is_skipped_not_queued_twice(site: Site) -> None:
    monitors = [monitor(f"m{i}") for i in range(10)]
    site.store.resources.sync(monitors)
    sched = site.scheduler(batch_max=100)
    sched.sync()
    busy = monitors[0].uid
    assert site.guard.acquire(busy, 60)  # a check of it is queued or running

    enqueued = sched.run_slot(time.time() + INTERVAL + 1)

    assert enqueued == 9 and sched.stats.skipped_inflight == 1
    assert busy not in {i[0] for m in site.messages() for i in m.args[0]}


def test_a_message_that_cannot_be_sent_gives_its_guards_back(
    tmp_path: Path, redis_client: redis.Redis, redis_ns: str
) -> None:
    """The broker is unreachable (the guard's Redis is not): the monitors must not stay blocked for
    a whole guard TTL; their next planned time finds them free."""
    dead = Site(tmp_path, redis_client, redis_ns, broker_url="redis://127.0.0.1:9/0")  # nothing listens
    try:
        monitors = [monitor(f"m{i}") for i in range(12)]
        dead.store.resources.sync(monitors)
        sched = dead.scheduler(batch_max=5)
        sched.sync()

        enqueued = sched.run_slot(time.time() + INTERVAL + 1)

        assert enqueued == 0 and sched.stats.enqueued == 0 and sched.stats.messages == 0
        for m in monitors:
            assert not redis_client.exists(f"{redis_ns}:inflight:{m.uid}")
            assert dead.guard.acquire(m.uid, 60)
    finally:
        dead.close()
