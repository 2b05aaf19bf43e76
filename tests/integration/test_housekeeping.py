"""The leader's periodic jobs that keep the promise on time: push deadlines within a second, a dead
worker's checks again at once, paused monitors' incidents closed; and the caches that keep checks
going while the database is away."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dramatiq
import psycopg2
import pytest
import redis
from dramatiq.brokers.stub import StubBroker

from app.actors import register_actors
from app.actors.alerts import AlertCache, register_alert_actors
from app.actors.broker import CHECK_QUEUE, make_broker
from app.actors.checks import RECORD_DEADLINE_S
from app.actors.periodic import Housekeeping
from app.actors.runtime import Runtime
from app.alerting.state import RetryPolicy, next_state
from app.catalog import Catalog
from app.controller.folder import FolderController
from app.coord import InflightGuard, LocalGuard, RedisGuard, RedisLiveness
from app.model import CheckResult, FailureClass
from app.resources.loader import SecretStore
from app.store import Store
from tests.conftest import PG_ADMIN

PUSH = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: nightly, namespace: jobs}
spec: {type: push, interval: 40s, push: {gracePeriod: 0s}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: api, namespace: jobs}
spec: {type: tcp, interval: 6h, tcp: {host: 127.0.0.1, port: 9}}
"""


class World:
    def __init__(self, db_url: str, folder: Path, guard: InflightGuard, text: str = PUSH) -> None:
        folder.mkdir(exist_ok=True)
        self.folder = folder
        (folder / "all.yaml").write_text(text)
        self.now = datetime.now(UTC)
        self.store = Store(db_url)
        self.controller = FolderController(folder, self.store, SecretStore())
        self.controller.reconcile(force=True)
        self.catalog = Catalog(self.store, ttl=0.0)
        self.broker: StubBroker = make_broker(None)  # type: ignore[assignment]
        self.rt = Runtime(self.store, self.catalog, SecretStore(), guard, clock=lambda: self.now)
        self.alerts = register_alert_actors(self.broker, self.rt, AlertCache(self.store, ttl=0.0))
        self.actors = register_actors(self.broker, self.rt, hooks=[self.alerts.on_transition])
        self.jobs = Housekeeping(self.actors, self.alerts)

    def uid(self, name: str) -> str:
        rec = self.store.resources.get("Monitor", "jobs", name)
        assert rec is not None
        return rec.uid

    def record(self, uid: str, result: CheckResult) -> None:
        now = self.now
        self.store.checks.record(uid, result, lambda p: next_state(p, result, RetryPolicy(), False, now), now)

    def queued_checks(self) -> list[str]:
        q = self.broker.queues[CHECK_QUEUE]
        out = []
        while not q.empty():
            out.append(dramatiq.Message.decode(q.get_nowait()).args[0])
            q.task_done()
        return out

    def close(self) -> None:
        self.broker.close()
        self.store.close()


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    w = World(sqlite_url, tmp_path / "manifests", LocalGuard())
    yield w
    w.close()


def test_a_push_deadline_is_judged_within_a_second_of_passing(world: World) -> None:
    """Before: a 40 s deadline turned DOWN at the first scheduled check after it (65-67 s)."""
    uid = world.uid("nightly")
    world.store.push.record_push(
        uid, lambda started: CheckResult.up(), lambda r, p: next_state(p, r, RetryPolicy(), False, world.now),
        world.now,
    )  # fmt: skip
    world.now += timedelta(seconds=39.5)
    assert world.jobs.push_deadlines() == 0 and world.queued_checks() == []
    world.now += timedelta(seconds=1)  # 40.5 s after the push: the job, run every second, sees it
    assert world.jobs.push_deadlines() == 1
    assert world.queued_checks() == [uid]
    assert world.jobs.push_deadlines() == 0  # the check is in flight: not twice


def test_a_push_monitor_already_down_is_left_to_its_schedule(world: World) -> None:
    uid = world.uid("nightly")
    fail = CheckResult.down(FailureClass.NO_PUSH, "no push received in 40s")
    world.store.checks.record(
        uid, fail, lambda p: next_state(p, fail, RetryPolicy(), False, world.now), world.now
    )
    world.now += timedelta(minutes=5)
    assert world.jobs.push_deadlines() == 0


def test_a_paused_monitors_incident_closes_quietly(world: World) -> None:
    uid = world.uid("api")
    fail = CheckResult.down(FailureClass.REFUSED, "connection refused")
    world.store.checks.record(
        uid, fail, lambda p: next_state(p, fail, RetryPolicy(), False, world.now), world.now
    )
    assert world.jobs.forget_gone() == 0  # still checked: its outage stays open
    (world.folder / "all.yaml").write_text(PUSH.replace("interval: 6h,", "interval: 6h, enabled: false,"))
    world.controller.reconcile(force=True)

    assert world.jobs.forget_gone() == 1
    [incident] = world.store.incidents.list(uid)
    assert incident.close_reason == "monitor paused"
    assert world.store.checks.states([uid]) == {}  # resumed later, its first failure is news again


def test_a_dead_workers_running_checks_are_checked_again_at_once(
    sqlite_url: str, tmp_path: Path, redis_client: redis.Redis, redis_ns: str
) -> None:
    """Before: they waited out the in-flight mark (timeout + 10 s) and the next slot."""
    live = RedisLiveness(redis_client, f"{redis_ns}:")
    guard = RedisGuard(redis_client, f"{redis_ns}:inflight:", live)
    w = World(sqlite_url, tmp_path / "manifests", guard)
    try:
        uid = w.uid("api")
        live.beat("worker-1")
        token = guard.acquire(uid, 60)
        assert token and guard.rearm(uid, token, 60, "worker-1")  # worker-1 runs the check
        assert w.jobs.revive_orphans() == 0

        redis_client.delete(f"{redis_ns}:alive:worker-1")  # SIGKILL: its beat lapses within 4 s

        assert w.jobs.revive_orphans() == 1
        args = dramatiq.Message.decode(w.broker.queues[CHECK_QUEUE].get_nowait()).args
        assert args[0] == uid and args[3] and args[3] != token  # a new check, under a new token
        assert guard.rearm(uid, token, 60, "worker-2") is False  # the dead worker's message, if redelivered
    finally:
        w.close()


def test_checks_keep_their_catalog_and_maintenance_view_while_the_database_is_away(
    pg_url: str, tmp_path: Path
) -> None:
    """Before: 42 checks served during a 23 s PostgreSQL outage were dropped at the maintenance lookup."""
    w = World(pg_url, tmp_path / "manifests", LocalGuard())
    name = pg_url.rsplit("/", 1)[1]
    admin = psycopg2.connect(PG_ADMIN)
    admin.autocommit = True
    try:
        entry = w.catalog.monitor(w.uid("api"))
        assert entry is not None and w.alerts.in_maintenance(entry, w.now) is False
        with admin.cursor() as cur:  # the database goes away (for this test's database only)
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        w.store.db.disconnect()

        assert w.catalog.monitor(entry.uid) == entry  # served from what the catalog had
        assert w.alerts.in_maintenance(entry, w.now) is False  # no exception: the check goes on
    finally:
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()
        w.close()


def test_a_checks_time_limit_covers_its_database_retries(world: World) -> None:
    """Before: the message's time limit (timeout + 5 s) killed the 60 s database retry after 6-11 s,
    sometimes between the commit and the enqueue of its transition."""
    world.actors.enqueue_check(world.uid("api"), 1, 0.0, 10.0, token="t")
    message = dramatiq.Message.decode(world.broker.queues[CHECK_QUEUE].get_nowait())
    assert message.options["time_limit"] >= (10.0 + RECORD_DEADLINE_S) * 1000
