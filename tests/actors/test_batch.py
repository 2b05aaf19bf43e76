"""check_batch against real loopback targets, real SQLite and PostgreSQL, real guards (local and Redis).

What a user would see after a batch: one heartbeat per monitor, the right states, incidents
opened for the failing ones, transitions only where the state changed, marks released (or
parked for a retry), and nothing for a monitor that is gone or a message whose token is stale.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg2
import pytest
import redis

from app.actors import BatchItem
from app.actors.batch import check_batch
from app.actors.checks import check_monitor, guard_ttl
from app.actors.pool import START_WITHIN_S, STRAGGLER_S, CheckPool
from app.actors.runtime import Runtime
from app.catalog import Catalog
from app.coord import InflightGuard, LocalGuard, RedisGuard, RedisLiveness
from app.resources.loader import SecretStore
from app.store import ResourceRecord, Store
from tests.checkers.servers import TcpServer, serve_in_thread, tcp_handler
from tests.faults.services import PostgresCluster
from tests.targets import HttpTarget

# What a loaded 2-core machine may add to a bound we assert: scheduling, not waiting.
SLACK_S = 1.5


class SlowTarget:
    """An HTTP server whose /slow answers after `delay` seconds, and / at once."""

    def __init__(self, delay: float, on_hit: Any = None) -> None:
        outer = self
        self.on_hit = on_hit

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                if self.path.startswith("/slow"):
                    time.sleep(outer.delay)
                if outer.on_hit is not None:
                    outer.on_hit(self.path)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the check gave up and hung up first: that is the point
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.delay = delay
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def monitor(name: str, url: str, timeout: str = "2s", retries: int = 0, **extra: Any) -> ResourceRecord:
    spec = {"type": "http", "interval": "20s", "timeout": timeout, "retries": retries, "http": {"url": url},
            **extra}  # fmt: skip
    return ResourceRecord(uid=f"uid-{name}", kind="Monitor", namespace="batch", name=name, spec=spec,
                          spec_hash=f"{name}-{url}-{timeout}-{retries}-{extra}")  # fmt: skip


@dataclass
class World:
    store: Store
    guard: InflightGuard
    rt: Runtime
    records: list[ResourceRecord] = field(default_factory=list)
    transitions: list[int] = field(default_factory=list)
    retries: list[tuple[str, int, float, str | None]] = field(default_factory=list)

    def add(self, *records: ResourceRecord) -> None:
        self.records.extend(records)
        self.store.resources.sync(list(self.records))
        self.rt.catalog.refresh(force=True)

    def remove(self, name: str) -> None:
        self.records = [r for r in self.records if r.name != name]
        self.store.resources.sync(list(self.records))
        self.rt.catalog.refresh(force=True)

    def due(self, *names: str) -> list[BatchItem]:
        """Items as the scheduler sends them: each monitor's guard taken, its token in the item."""
        items: list[BatchItem] = []
        for name in names:
            uid = f"uid-{name}"
            token = self.guard.acquire(uid, guard_ttl(10.0))
            assert token, f"{name} is still held"
            items.append((uid, 1, time.time(), token))
        return items

    def run(self, items: list[BatchItem]) -> dict[str, str]:
        return check_batch(
            self.rt, [list(i) for i in items], self.transitions.append, lambda *a: self.retries.append(a)
        )

    def state(self, name: str) -> str | None:
        st = self.store.checks.states([f"uid-{name}"]).get(f"uid-{name}")
        return st.state if st else None

    def beats(self, name: str) -> int:
        return self.store.checks.count_heartbeats(f"uid-{name}")

    def free(self, name: str) -> bool:
        """Whether the monitor's mark was handed back (the next slot may check it)."""
        token = self.guard.acquire(f"uid-{name}", 30)
        if token is None:
            return False
        self.guard.release(f"uid-{name}", token)
        return True


def make_world(db_url: str, guard: InflightGuard, pool: int = 8) -> World:
    store = Store(db_url)
    rt = Runtime(store, Catalog(store, ttl=0.0), SecretStore(), guard, pool=CheckPool(pool))
    return World(store, guard, rt)


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    w = make_world(db_url, LocalGuard())
    yield w
    w.rt.pool.shutdown()
    w.store.close()


@pytest.fixture
def redis_world(sqlite_url: str, redis_client: redis.Redis, redis_ns: str) -> Iterator[World]:
    liveness = RedisLiveness(redis_client, f"{redis_ns}:")
    w = make_world(sqlite_url, RedisGuard(redis_client, f"{redis_ns}:inflight:", liveness))
    liveness.beat(w.rt.identity)
    yield w
    w.rt.pool.shutdown()
    w.store.close()


@pytest.fixture
def target() -> Iterator[HttpTarget]:
    t = HttpTarget().start()
    yield t
    t.stop()


def test_a_batch_records_every_check_with_its_state_incident_and_transition(
    world: World, target: HttpTarget, db_url: str
) -> None:
    dead = closed_port()
    ups = [f"up{i}" for i in range(8)]
    downs = [f"down{i}" for i in range(4)]
    world.add(*(monitor(n, target.url + f"/{n}") for n in ups),
              *(monitor(n, f"http://127.0.0.1:{dead}/") for n in downs))  # fmt: skip

    states = world.run(world.due(*ups, *downs))

    assert states == {**{f"uid-{n}": "UP" for n in ups}, **{f"uid-{n}": "DOWN" for n in downs}}
    assert [world.beats(n) for n in ups + downs] == [1] * 12
    open_incidents = {i.monitor_uid for i in world.store.incidents.list(open_only=True)}
    assert open_incidents == {f"uid-{n}" for n in downs}
    assert len(world.transitions) == 12, "a new monitor's first state is a change"
    assert all(world.free(n) for n in ups + downs), "every mark is handed back"
    if db_url.startswith("postgresql"):
        # Every heartbeat of the batch was written by the same transaction.
        conn = psycopg2.connect(db_url)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(DISTINCT xmin::text) FROM kk_heartbeats")
            assert cur.fetchone()[0] == 1
        conn.close()

    # The next slot: nothing changed, so no transition is sent; one target recovers.
    world.transitions.clear()
    world.records = [r for r in world.records if r.name != "down0"]
    world.add(monitor("down0", target.url + "/down0"))
    states = world.run(world.due(*ups, *downs))

    assert states["uid-down0"] == "UP" and states["uid-up0"] == "UP" and states["uid-down1"] == "DOWN"
    assert len(world.transitions) == 1, "only the monitor that changed chains on"
    assert [world.beats(n) for n in ups + downs] == [2] * 12
    assert "uid-down0" not in {i.monitor_uid for i in world.store.incidents.list(open_only=True)}


def test_nul_bytes_from_targets_cost_neither_their_heartbeat_nor_their_batch(
    world: World, target: HttpTarget, db_url: str
) -> None:
    """A TCP server that greets with NUL bytes and an HTTP server whose status line holds one, in a
    batch of healthy monitors: PostgreSQL refuses NUL in text and jsonb, and the store must not
    hand it any, or the whole batch is retried for a minute and dropped."""
    binary = TcpServer(("127.0.0.1", 0), tcp_handler("nul"))
    serve_in_thread(binary)
    odd = HttpTarget().start()
    odd.status, odd.phrase = 503, "Service\x00Unavailable"
    try:
        ups = [f"up{i}" for i in range(5)]
        tcp = {"host": "127.0.0.1", "port": binary.server_address[1], "expect": "READY"}
        spec = {"type": "tcp", "timeout": "2s", "tcp": tcp}
        greets = ResourceRecord(uid="uid-greets", kind="Monitor", namespace="batch", name="greets", spec=spec,
                                spec_hash="greets")  # fmt: skip
        world.add(greets, monitor("phrase", odd.url + "/"),
                  *(monitor(n, target.url + f"/{n}") for n in ups))  # fmt: skip
        started = time.perf_counter()
        states = world.run(world.due("greets", "phrase", *ups))
        took = time.perf_counter() - started
    finally:
        binary.shutdown()
        binary.server_close()
        odd.stop()

    assert states == {"uid-greets": "DOWN", "uid-phrase": "DOWN", **{f"uid-{n}": "UP" for n in ups}}
    assert [world.beats(n) for n in ["greets", "phrase", *ups]] == [1] * 7
    assert took < 2.0 + SLACK_S, f"the batch took {took:.1f}s: it was retried"
    views = world.store.checks.states(["uid-greets", "uid-phrase"])
    received = (views["uid-greets"].details or {}).get("received", "")
    assert "KK" in received and "\x00" not in received, received
    assert views["uid-phrase"].reason.startswith("HTTP 503 Service\ufffdUnavailable"), views[
        "uid-phrase"
    ].reason
    [incident] = world.store.incidents.list("uid-phrase")
    assert "\x00" not in incident.first_reason
    if db_url.startswith("postgresql"):  # in one transaction, not one by one
        conn = psycopg2.connect(db_url)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(DISTINCT xmin::text) FROM kk_heartbeats")
            assert cur.fetchone()[0] == 1
        conn.close()


def refuse_heartbeats_of(db_url: str, uid: str) -> None:
    """A trigger that makes the database refuse `uid`'s heartbeats as bad data (a stand-in for any
    value of one check that cannot be stored)."""
    if db_url.startswith("postgresql"):
        conn = psycopg2.connect(db_url)
        with conn, conn.cursor() as cur:
            cur.execute(
                "CREATE FUNCTION kk_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.monitor_uid = '{uid}' THEN "
                "RAISE EXCEPTION 'refused' USING ERRCODE = 'data_exception'; END IF; RETURN NEW; END $$"
            )
            cur.execute("CREATE TRIGGER kk_test_refuse BEFORE INSERT ON kk_heartbeats FOR EACH ROW "
                        "EXECUTE FUNCTION kk_test_refuse()")  # fmt: skip
        conn.close()
    else:
        with contextlib.closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn, conn:
            refuse = "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            conn.execute(f"CREATE TRIGGER kk_test_refuse BEFORE INSERT ON kk_heartbeats "
                         f"WHEN NEW.monitor_uid = '{uid}' {refuse}")  # fmt: skip


def test_a_check_the_database_refuses_costs_only_itself(
    world: World, target: HttpTarget, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Bad data is not an outage: the batch is not retried for a minute and dropped, its items are
    recorded one by one and only the refused one is lost, logged by name, its mark handed back."""
    names = ["a", "bad", "b", "c"]
    world.add(*(monitor(n, target.url + f"/{n}") for n in names))
    refuse_heartbeats_of(db_url, "uid-bad")

    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="app.actors"):
        states = world.run(world.due(*names))
    took = time.perf_counter() - started

    assert states == {"uid-a": "UP", "uid-b": "UP", "uid-c": "UP"}
    assert [world.beats(n) for n in names] == [1, 0, 1, 1]
    assert world.state("bad") is None, "nothing of the refused check is kept"
    assert took < 1.0 + SLACK_S, f"the batch took {took:.1f}s: it was retried as if the database were away"
    assert all(world.free(n) for n in names), "every mark is handed back, the refused one's too"
    refused = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(refused) == 1 and "batch/bad" in refused[0].getMessage(), [r.getMessage() for r in refused]
    assert len(world.transitions) == 3


def test_a_single_check_the_database_refuses_is_dropped_at_once(
    world: World, target: HttpTarget, db_url: str
) -> None:
    """check_monitor, the one-check path, tells bad data from an outage the same way."""
    world.add(monitor("bad", target.url + "/bad"))
    refuse_heartbeats_of(db_url, "uid-bad")
    [(uid, _, scheduled, token)] = world.due("bad")

    started = time.perf_counter()
    state = check_monitor(world.rt, uid, 1, scheduled, world.transitions.append, lambda *a: None, token=token)

    assert state is None and world.beats("bad") == 0
    assert time.perf_counter() - started < 1.0 + SLACK_S
    assert world.free("bad")


def test_a_slow_target_does_not_hold_up_the_rest_of_its_batch(world: World) -> None:
    slow = SlowTarget(delay=6.0)
    try:
        fast = [f"fast{i}" for i in range(6)]
        world.add(monitor("slow", slow.url + "/slow", timeout="1s"),
                  *(monitor(n, slow.url + f"/{n}") for n in fast))  # fmt: skip
        started = time.perf_counter()
        states = world.run(world.due("slow", *fast))
        took = time.perf_counter() - started
    finally:
        slow.stop()
    assert states == {"uid-slow": "DOWN", **{f"uid-{n}": "UP" for n in fast}}
    st = world.store.checks.states(["uid-slow"])["uid-slow"]
    assert st.failure == "timeout", st.reason
    assert took < 1.0 + SLACK_S, f"the batch took {took:.2f}s for a 1s timeout"


def test_the_pool_answers_for_a_check_that_ignores_its_deadline() -> None:
    """A client library stuck past the deadline: the batch goes on without it."""
    pool = CheckPool(4)
    try:
        started = time.perf_counter()
        out = pool.run_all([(lambda: "quick", 1.0), (lambda: time.sleep(5) or "late", 0.2)],
                           lambda i, ran: f"gave up on {i}")  # fmt: skip
        took = time.perf_counter() - started
    finally:
        pool.shutdown()
    assert out == ["quick", "gave up on 1"]
    assert took < 0.2 + STRAGGLER_S + SLACK_S


def test_a_stale_token_checks_nothing(world: World, target: HttpTarget) -> None:
    world.add(monitor("a", target.url + "/a"), monitor("b", target.url + "/b"))
    stale = world.guard.acquire("uid-a", 0.05)
    assert stale
    time.sleep(0.1)
    newer = world.guard.acquire("uid-a", 30)  # the schedule moved on while the message waited
    assert newer
    (fresh,) = world.due("b")

    states = world.run([("uid-a", 1, time.time(), stale), fresh])

    assert states == {"uid-b": "UP"}
    assert world.beats("a") == 0
    assert not world.free("a"), "the newer check still holds the monitor"


def test_a_monitor_deleted_before_its_batch_ran_records_nothing(world: World, target: HttpTarget) -> None:
    world.add(monitor("kept", target.url + "/kept"), monitor("gone", target.url + "/gone"))
    items = world.due("kept", "gone")
    world.remove("gone")

    states = world.run(items)

    assert states == {"uid-kept": "UP"}
    assert world.beats("gone") == 0 and world.state("gone") is None
    assert world.free("gone"), "its mark is released, not left to expire"


def test_a_monitor_deleted_while_its_batch_checked_it_records_nothing(world: World) -> None:
    """Deleted mid-check: recording its result would bring it back as a new monitor."""

    def delete_on_hit(path: str) -> None:
        if path == "/doomed":
            world.store.resources.sync([r for r in world.records if r.name != "doomed"])

    target = SlowTarget(delay=0.0, on_hit=delete_on_hit)
    try:
        world.add(monitor("doomed", target.url + "/doomed"), monitor("kept", target.url + "/kept"))
        states = world.run(world.due("doomed", "kept"))
    finally:
        target.stop()
    assert states == {"uid-kept": "UP"}
    assert world.beats("doomed") == 0 and world.state("doomed") is None
    assert world.free("doomed") and world.free("kept")


def test_a_failing_check_with_retries_stays_pending_and_schedules_its_retry(world: World) -> None:
    world.add(monitor("flaky", f"http://127.0.0.1:{closed_port()}/", retries=2, retryInterval="7s"))
    items = world.due("flaky")

    states = world.run(items)

    assert states == {"uid-flaky": "PENDING"}
    retried = [(uid, wait, token) for uid, _gen, wait, token in world.retries]
    assert retried == [("uid-flaky", 7.0, items[0][3])]
    assert not world.free("flaky"), "the mark is parked for the retry"
    assert world.store.incidents.list(open_only=True) == []


def test_a_worker_that_dies_mid_batch_leaves_its_checks_to_the_orphan_sweep(
    redis_world: World, redis_client: redis.Redis, redis_ns: str
) -> None:
    """The batch's marks name the worker running it; when its beat lapses they are listed as
    orphans (revive_orphans checks them again at once) and the scheduler may take them."""
    w = redis_world
    slow = SlowTarget(delay=2.0)
    try:
        w.add(monitor("a", slow.url + "/slow", timeout="5s"), monitor("b", slow.url + "/slow", timeout="5s"))
        items = w.due("a", "b")
        running = threading.Thread(target=w.run, args=(items,), daemon=True)
        running.start()
        time.sleep(0.5)  # both checks are running, their marks re-armed in this worker's name
        assert w.guard.orphans() == [] and not w.free("a")
        redis_client.delete(f"{redis_ns}:alive:{w.rt.identity}")  # SIGKILLed: its beat lapses

        assert sorted(w.guard.orphans()) == ["uid-a", "uid-b"]
        assert w.free("a") and w.free("b"), "a dead worker's marks are free at once"
        running.join(10)
    finally:
        slow.stop()


def test_a_batch_on_redis_guards_records_and_hands_every_mark_back(
    redis_world: World, target: HttpTarget
) -> None:
    w = redis_world
    names = [f"m{i}" for i in range(10)]
    w.add(*(monitor(n, target.url + f"/{n}") for n in names))

    states = w.run(w.due(*names))

    assert states == {f"uid-{n}": "UP" for n in names}
    assert all(w.free(n) for n in names)
    assert w.guard.orphans() == []


@pytest.mark.slow  # its own PostgreSQL, stopped and started again
def test_a_database_outage_holds_the_batch_and_keeps_its_guards(
    redis_client: redis.Redis, redis_ns: str, target: HttpTarget
) -> None:
    """PostgreSQL goes away before the batch records: the worker keeps its marks alive while it
    retries, and records every check once the database is back."""
    cluster = PostgresCluster()
    cluster.init()
    liveness = RedisLiveness(redis_client, f"{redis_ns}:")
    w = make_world(cluster.url, RedisGuard(redis_client, f"{redis_ns}:inflight:", liveness))
    liveness.beat(w.rt.identity)
    try:
        names = ["a", "b", "c"]
        w.add(*(monitor(n, target.url + f"/{n}") for n in names))
        items = w.due(*names)
        cluster.stop_fast()
        done: dict[str, dict[str, str]] = {}
        running = threading.Thread(target=lambda: done.setdefault("states", w.run(items)), daemon=True)
        running.start()
        time.sleep(2.0)
        ttls = [int(redis_client.pttl(f"{redis_ns}:inflight:uid-{n}")) for n in names]
        assert running.is_alive(), "the batch waits for the database, it does not drop its checks"
        armed_ms = (guard_ttl(2.0) + START_WITHIN_S) * 1000  # what the batch re-armed them with
        assert min(ttls) > armed_ms, f"marks not extended while waiting: {ttls} ms"
        cluster.start()
        running.join(60)

        assert done.get("states") == {f"uid-{n}": "UP" for n in names}
        assert [w.beats(n) for n in names] == [1, 1, 1]
        assert all(w.free(n) for n in names)
    finally:
        w.rt.pool.shutdown()
        w.store.close()
        cluster.remove()


def test_a_check_that_finds_no_free_thread_in_time_is_not_run_rather_than_failed() -> None:
    """Every thread busy with targets that time out: the late check is skipped (its next slot
    runs it), not reported as a failure it never had."""
    pool = CheckPool(1)
    try:
        out = pool.run_all([(lambda: time.sleep(1.0) or "slow", 5.0), (lambda: "never started", 5.0)],
                           lambda i, ran: f"gave up on {i}", start_within=0.3)  # fmt: skip
    finally:
        pool.shutdown()
    assert out == ["slow", None]


def test_a_quick_checks_mark_lives_until_its_batch_records_it(
    redis_world: World, redis_client: redis.Redis, redis_ns: str
) -> None:
    """Its result waits for the batch's slowest check: its mark must not lapse meanwhile, or its
    next slot could check it again and the older result land after the newer one."""
    w = redis_world
    slow = SlowTarget(delay=2.0)
    try:
        w.add(
            monitor("quick", slow.url + "/quick", timeout="1s"),
            monitor("slow", slow.url + "/slow", timeout="8s"),
        )
        running = threading.Thread(target=w.run, args=(w.due("quick", "slow"),), daemon=True)
        running.start()
        time.sleep(1.0)
        ttl_ms = int(redis_client.pttl(f"{redis_ns}:inflight:uid-quick"))
        running.join(10)
    finally:
        slow.stop()
    assert ttl_ms > guard_ttl(8.0) * 1000 - 2000, f"the quick check's mark lives {ttl_ms} ms"
    assert w.beats("quick") == 1 and w.beats("slow") == 1
