"""Hot-path breakdown: what one check costs, step by step, in one process and one thread.

The pipeline benchmark says how many checks/s the processes sustain; this one says where
a worker's CPU goes. Each step runs sequentially (bounded in count and time) against the
same nginx/Python target and a fresh PostgreSQL database (plus SQLite, the embedded
default): the catalog lookup, `call_within` (a watchdog alarm, no thread), the HTTP checker,
`CheckRepo.record` (with the PostgreSQL backend's own CPU, and on SQLite its statements),
`CheckRepo.record_many` of 100 checks (divide by 100 for a check's share), the whole
`check_monitor`, the scheduler's enqueue (guard + send) and Dramatiq's own per-message
cost (a no-op actor consumed by a real Worker from Redis).

The batch path: `check_batch` over batches of 1, 50 and 200 monitors against the same
target, run on the check pool (guards re-armed and released in one call each, checks
concurrent, one `record_many` transaction), reported per check; the CPU is the whole
process's (pool threads included). Beside it, the concurrency mechanism alone: the same
GETs on a pool of threads with a session each versus one asyncio loop with aiohttp.

Run alone: `python -m bench.hotpath [--quick]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg2
import redis

from bench.common import PG_ADMIN, REDIS_URL, median, proc_cpu_s, save, say, table, unique
from bench.target import Target


def timed(fn: Callable[[int], Any], n: int, cap_s: float) -> dict[str, float]:
    """Per-call wall and CPU (this process) of `fn(i)`, sequentially, at most n calls or cap_s."""
    walls: list[float] = []
    cpus: list[float] = []
    end = time.perf_counter() + cap_s
    for i in range(n):
        c0, t0 = time.process_time(), time.perf_counter()
        fn(i)
        t1, c1 = time.perf_counter(), time.process_time()
        walls.append(t1 - t0)
        cpus.append(c1 - c0)
        if t1 > end:
            break
    return {
        "calls": len(walls),
        "wall_ms_p50": median(walls) * 1000,
        "cpu_ms_p50": median(cpus) * 1000,
        "cpu_ms_mean": sum(cpus) / len(cpus) * 1000,
    }


BATCH = 100  # checks per record_many call


def timed_db(fn: Callable[[int], Any], n: int, cap_s: float, backend: int | None) -> dict[str, float]:
    """`timed`, plus the CPU the PostgreSQL backend serving this connection spent per call."""
    before = proc_cpu_s(backend) if backend else 0.0
    r = timed(fn, n, cap_s)
    if backend:
        r["db_backend_cpu_ms"] = (proc_cpu_s(backend) - before) / r["calls"] * 1000
    return r


def _monitor_record(url: str) -> Any:
    from app.store import ResourceRecord

    spec = {"type": "http", "interval": "20s", "timeout": "5s", "http": {"url": url}}
    return ResourceRecord(
        uid="hot-0", kind="Monitor", namespace="bench", name="hot", spec=spec, spec_hash="h"
    )


def store_steps(
    db_url: str, label: str, target: Target, guard: Any, n: int, cap: float
) -> list[tuple[str, Any]]:
    from pony.orm import db_session

    from app.actors import Runtime
    from app.actors.checks import check_monitor
    from app.alerting.state import RetryPolicy, next_state
    from app.catalog import Catalog
    from app.checkers import CheckContext, run_check
    from app.resources.loader import SecretStore
    from app.store import CheckToRecord, Store

    store = Store(db_url)
    try:
        store.resources.sync([_monitor_record(target.url)])
        catalog = Catalog(store)
        catalog.refresh(force=True)
        rt = Runtime(store=store, catalog=catalog, secrets=SecretStore(), guard=guard)
        entry = catalog.monitor("hot-0")
        assert entry is not None
        ctx = CheckContext(
            uid="hot-0", name="hot", namespace="bench", secrets=rt.secrets, session=rt.session()
        )
        result = run_check(entry.spec, ctx)
        policy = RetryPolicy()

        def record(_: int) -> None:
            now = datetime.now(UTC)
            store.checks.record(
                "hot-0", result, lambda prev: next_state(prev, result, policy, False, now), now
            )

        rows: list[tuple[str, Any]] = []
        if label == "PostgreSQL":
            rows.append(
                ("catalog.monitor(uid), cached", timed(lambda i: catalog.monitor("hot-0"), n * 10, cap))
            )
            rows.append(("run_check: http -> target", timed(lambda i: run_check(entry.spec, ctx), n, cap)))
        record(0)  # the first call creates the state row
        backend = None
        if label == "PostgreSQL":
            with db_session:
                backend = int(store.db.select("SELECT pg_backend_pid()")[0])
        r = timed_db(record, n, cap, backend)
        if label == "SQLite":  # the store writes through the driver: SQLite's trace sees every statement
            stmts: list[str] = []
            with db_session:
                store.db.get_connection().set_trace_callback(stmts.append)
            record(0)
            with db_session:
                store.db.get_connection().set_trace_callback(None)
            # less the COMMIT of the session that set the trace and the BEGIN of the one that unset it
            r["sql"] = [" ".join(sql.split())[:90] for sql in stmts[1:-1]]
            r["statements"] = len(r["sql"])
        rows.append((f"CheckRepo.record ({label})", r))
        batch = [f"hot-b{i}" for i in range(BATCH)]

        def record_many(_: int) -> None:
            now = datetime.now(UTC)
            store.checks.record_many(
                [CheckToRecord(u, result, lambda prev: next_state(prev, result, policy, False, now), now)
                 for u in batch]
            )  # fmt: skip

        record_many(0)  # the first call creates the state rows
        rows.append(
            (f"CheckRepo.record_many, {BATCH} checks ({label})", timed_db(record_many, n, cap, backend))
        )

        def whole(_: int) -> None:
            guard.acquire("hot-0", 15)
            check_monitor(rt, "hot-0", entry.generation, time.time(), lambda tid: None, lambda u, g, w: None)

        rows.append((f"check_monitor, whole ({label})", timed_db(whole, n, cap, backend)))
        if label == "PostgreSQL":
            rows += session_steps(store, db_url, n, cap, backend)
        return rows
    finally:
        store.close()


def session_steps(store: Any, db_url: str, n: int, cap: float, backend: int | None) -> list[tuple[str, Any]]:
    """What a Pony db_session costs on PostgreSQL beyond its statements: its pool runs a
    rollback and DISCARD ALL each time it hands the connection back."""
    from pony.orm import db_session

    def pony(_: int) -> None:
        with db_session:
            store.db.select("SELECT 1")

    conn = psycopg2.connect(db_url)
    try:
        cur = conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        own = int(cur.fetchone()[0])
        conn.commit()

        def txn(_: int) -> None:
            cur.execute("SELECT 1")
            cur.fetchall()
            conn.commit()

        def discard(_: int) -> None:
            conn.autocommit = True
            cur.execute("DISCARD ALL")
            conn.autocommit = False

        return [
            ("Pony db_session + SELECT 1 (PostgreSQL)", timed_db(pony, n, cap, backend)),
            ("psycopg2 SELECT 1 + COMMIT", timed_db(txn, n, cap, own)),
            ("psycopg2 DISCARD ALL (Pony's release)", timed_db(discard, n, cap, own)),
        ]
    finally:
        conn.close()


def dramatiq_steps(n: int, cap: float) -> list[tuple[str, Any]]:
    """The scheduler's enqueue, and a Worker consuming no-op messages (Dramatiq's own cost)."""
    import dramatiq

    from app.actors.broker import make_broker
    from app.coord import RedisGuard

    ns = unique("kkbench-hot-")
    broker = make_broker(REDIS_URL, ns)
    guard = RedisGuard(broker.client, f"{ns}:inflight:")  # type: ignore[attr-defined]
    done = threading.Event()
    seen = [0]
    total = max(200, n)

    def noop(uid: str, generation: int, scheduled_at: float) -> None:
        seen[0] += 1
        if seen[0] >= total:
            done.set()

    actor = dramatiq.actor(
        noop, actor_name="check_monitor", queue_name="checks", broker=broker, max_retries=0
    )
    rows: list[tuple[str, Any]] = []
    try:
        tokens: dict[str, str] = {}

        def enqueue(i: int) -> None:
            token = guard.acquire(f"u{i}", 20)
            if token:
                tokens[f"u{i}"] = token
                actor.send_with_options(args=(f"u{i}", 1, time.time()), time_limit=15000)

        rows.append(("scheduler tick: guard.acquire + send", timed(enqueue, total, cap)))
        worker = dramatiq.Worker(broker, queues={"checks"}, worker_threads=1, worker_timeout=100)
        c0, t0 = time.process_time(), time.perf_counter()
        worker.start()
        done.wait(min(cap * 4, 120))
        t1, c1 = time.perf_counter(), time.process_time()
        worker.stop(timeout=5000)
        got = max(1, seen[0])
        rows.append(
            (
                "dramatiq: fetch+run no-op+ack, per msg",
                {
                    "calls": seen[0],
                    "wall_ms_p50": (t1 - t0) / got * 1000,
                    "cpu_ms_mean": (c1 - c0) / got * 1000,
                },
            )
        )
        rows.append(
            (
                "guard.release (Redis DEL)",
                timed(lambda i: guard.release(f"u{i}", tokens.get(f"u{i}", "")), total, cap),
            )
        )
        rows += guard_batch_steps(guard, total, cap)
    finally:
        broker.close()
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{ns}*", count=1000):
            client.delete(key)
        client.close()
    return rows


def guard_batch_steps(guard: Any, n: int, cap: float) -> list[tuple[str, Any]]:
    """What a batch of 200 pays the guard per mark: re-arm and release, each one pipelined call."""
    uids = [f"g{i}" for i in range(200)]

    def cycle(_: int) -> None:
        marks = [(u, guard.acquire(u, 20) or "", 15.0) for u in uids]
        c0 = time.process_time()
        guard.rearm_many(marks, "bench-worker")
        guard.release_many([(u, t) for u, t, _ in marks])
        spent.append(time.process_time() - c0)

    spent: list[float] = []
    r = timed(cycle, max(3, n // 200), cap)
    per = median(spent) / 200 * 1000
    return [
        (
            "RedisGuard rearm_many + release_many of 200, per mark",
            {"calls": r["calls"] * 200, "wall_ms_p50": float("nan"), "cpu_ms_p50": per, "cpu_ms_mean": per},
        )
    ]


def catalog_steps(quick: bool) -> list[tuple[str, Any]]:
    """A lookup of a uid the catalog does not know (a monitor deleted while its check was queued,
    or created a moment ago) forces a full reload: every Monitor spec is validated again."""
    from bench.scheduler import build_catalog

    size = 2_000 if quick else 10_000
    catalog = build_catalog(size, 60.0)
    calls = 3
    return [
        (
            f"catalog.monitor(unknown uid), {size} monitors",
            timed(lambda i: catalog.monitor(f"gone-{i}"), calls, 60.0),
        )
    ]


def call_within_steps(n: int, cap: float) -> list[tuple[str, Any]]:
    from app.checkers.deadline import Deadline, call_within

    return [
        (
            "call_within: watchdog alarm, empty fn",
            timed(lambda i: call_within(lambda: 1, Deadline(5), on_timeout=lambda: None), n, cap),
        )
    ]


BATCH_SIZES = (1, 50, 200)


def _monitors(url: str, n: int) -> list[Any]:
    from app.store import ResourceRecord

    return [
        ResourceRecord(
            uid=f"hot-b{i}",
            kind="Monitor",
            namespace="bench",
            name=f"hot-b{i}",
            spec={"type": "http", "interval": "20s", "timeout": "5s", "http": {"url": f"{url}/b{i}"}},
            spec_hash=f"b{i}",
        )
        for i in range(n)
    ]


def batch_steps(
    db_url: str, label: str, target: Target, guard: Any, n: int, cap: float
) -> list[tuple[str, Any]]:
    """`check_batch` per check, for each batch size, on the process's check pool."""
    from app.actors import Runtime
    from app.actors.batch import check_batch
    from app.actors.pool import CheckPool
    from app.catalog import Catalog
    from app.resources.loader import SecretStore
    from app.store import Store

    store = Store(db_url)
    pool = CheckPool(32)
    size = max(BATCH_SIZES)
    try:
        store.resources.sync(_monitors(target.url, size))
        catalog = Catalog(store)
        catalog.refresh(force=True)
        rt = Runtime(store=store, catalog=catalog, secrets=SecretStore(), guard=guard, pool=pool)
        uids = [f"hot-b{i}" for i in range(size)]

        def run(b: int) -> None:
            items = [[u, 1, time.time(), guard.acquire(u, 15)] for u in uids[:b]]
            check_batch(rt, items, lambda tid: None, lambda *a: None)

        run(size)  # first checks: state rows and transitions (new -> UP) out of the way
        rows: list[tuple[str, Any]] = []
        for b in BATCH_SIZES:
            r = timed(lambda _i, b=b: run(b), max(3, n // b), cap)
            per = {k: v / b for k, v in r.items() if k != "calls"}
            rows.append((f"check_batch of {b}, per check ({label})", {"calls": r["calls"] * b, **per}))
        return rows
    finally:
        pool.shutdown()
        store.close()


def concurrency_steps(target: Target, n: int) -> list[tuple[str, Any]]:
    """The same GETs, 200 at a time: a pool of 32 threads with a requests.Session each (what the
    check pool does) versus one asyncio loop with aiohttp (32 connections): CPU per request."""
    import asyncio
    import concurrent.futures as cf

    import requests

    local = threading.local()

    def get(i: int) -> int:
        s = getattr(local, "s", None)
        if s is None:
            s = local.s = requests.Session()
        return s.get(f"{target.url}/c{i}", timeout=5).status_code

    rows: list[tuple[str, Any]] = []
    with cf.ThreadPoolExecutor(32) as ex:
        list(ex.map(get, range(200)))  # warm the sessions

        def threads(_: int) -> None:
            list(ex.map(get, range(200)))

        r = timed(threads, max(3, n // 200), 30)
        rows.append(("200 GETs, pool of 32 threads + requests, per GET", _per(r, 200)))
    try:
        import aiohttp
    except ImportError:
        return rows

    async def many(session: Any) -> None:
        async def one(i: int) -> int:
            async with session.get(f"{target.url}/c{i}") as resp:
                await resp.read()
                return int(resp.status)

        await asyncio.gather(*(one(i) for i in range(200)))

    async def loop_runs(calls: int) -> dict[str, float]:
        conn = aiohttp.TCPConnector(limit=32)
        async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=5)) as session:
            await many(session)
            walls, cpus = [], []
            for _ in range(calls):
                c0, t0 = time.process_time(), time.perf_counter()
                await many(session)
                walls.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
        return {"calls": len(walls), "wall_ms_p50": median(walls) * 1000, "cpu_ms_p50": median(cpus) * 1000,
                "cpu_ms_mean": sum(cpus) / len(cpus) * 1000}  # fmt: skip

    r = asyncio.run(loop_runs(max(3, n // 200)))
    rows.append(("200 GETs, one asyncio loop + aiohttp, per GET", _per(r, 200)))
    return rows


def _per(r: dict[str, float], k: int) -> dict[str, float]:
    return {"calls": r["calls"] * k, **{key: v / k for key, v in r.items() if key != "calls"}}


def main(quick: bool = False) -> dict[str, Any]:
    n, cap = (300, 5.0) if quick else (2000, 15.0)
    say(f"== hotpath: one check, step by step, sequential in one thread ({n} calls or {cap:g}s per step)")
    target = Target().start()
    db_name = unique("kk_bench_hot_")
    admin = psycopg2.connect(PG_ADMIN)
    admin.autocommit = True
    rows: list[tuple[str, Any]] = []
    tmp = tempfile.TemporaryDirectory(prefix="kkbench-hot-")
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{db_name}"')
        say(f"   target: {target.kind}")
        from app.coord import LocalGuard

        pg_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + db_name
        rows += call_within_steps(n, cap)
        rows += store_steps(pg_url, "PostgreSQL", target, LocalGuard(), n, cap)
        rows += store_steps(f"sqlite:///{tmp.name}/hot.db", "SQLite", target, LocalGuard(), n, cap)
        rows += batch_steps(pg_url, "PostgreSQL", target, LocalGuard(), n, cap)
        rows += batch_steps(f"sqlite:///{tmp.name}/batch.db", "SQLite", target, LocalGuard(), n, cap)
        rows += concurrency_steps(target, n)
        rows += dramatiq_steps(n, cap)
        rows += catalog_steps(quick)
    finally:
        target.stop()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        admin.close()
        tmp.cleanup()
    say(
        table(
            [
                (
                    label,
                    r["calls"],
                    r["wall_ms_p50"],
                    r.get("cpu_ms_p50", float("nan")),
                    r["cpu_ms_mean"],
                    r.get("statements", ""),
                    r.get("db_backend_cpu_ms", float("nan")),
                )
                for label, r in rows
            ],
            ["step", "calls", "wall ms p50", "CPU ms p50", "CPU ms mean", "SQL stmts", "PG backend CPU ms"],
        )
    )
    for label, r in rows:
        if "sql" in r:
            say(f"   statements of one {label} (PostgreSQL adds FOR UPDATE to the locking SELECT):")
            for s in r["sql"]:
                say(f"     {s}")
    out = {"quick": quick, "target": target.kind, "steps": dict(rows)}
    say(f"   raw figures: {save('hotpath', out)}")
    return out


def _cli() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.hotpath")
    ap.add_argument("--quick", action="store_true")
    main(ap.parse_args().quick)


if __name__ == "__main__":
    sys.exit(_cli())
