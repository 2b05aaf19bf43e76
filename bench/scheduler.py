"""Scheduler benchmark: the real slot scheduler (MonitorScheduler) enqueuing onto a real Redis.

For each size (10k, 50k, 100k monitors, one interval each) a fresh child process builds
the real Catalog over N Monitor records served the way the store serves them (made
afresh on every read, each with the status the controller writes and a label), a real
Redis broker in a namespace of its own with the actors registered, and a RedisGuard with
worker liveness. It times the first `sync()` (as a standby, like the scaled-out role),
then takes the lease and leads for one full interval: every monitor comes due once in
that window, so the window holds N checks, in one `check_batch` message per chunk of a
slot.

Reported per size: enqueue drift (send time minus planned time, from
`MonitorScheduler.stats.samples`) p50/p99/max, checks enqueued and messages sent, and
both counted again in Redis (the messages in the queue and the items inside them), the
process CPU over the window and per 1k enqueued checks, RSS per 1,000 monitors (the
catalog and the schedule, over the process's size with everything imported) and the
collector's full collections. Targets: drift p99 < 1 s at 100k monitors per 60 s; RSS
< 3 KB per monitor.

Run alone: `python -m bench.scheduler [--quick]`; one size: `--one 10000 --interval 60`.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from typing import Any

from bench.common import (
    REDIS_URL,
    child_env,
    load_average,
    median,
    percentile,
    proc_rss_mb,
    python,
    save,
    say,
    table,
    unique,
)

SIZES = (10_000, 50_000, 100_000)
TARGET_P99_S = 1.0
TARGET_RSS_KB = 3.0
_NS = uuid.UUID("0b5e1c2a-6a39-4d55-8b8e-3c1f7b2d9e41")


class MemoryResources:
    """The two reads the Catalog makes of the resource cache. Like the store, every `list` makes
    the records afresh, so the catalog keeps only what it builds from them."""

    def __init__(self, n: int, interval: float) -> None:
        self.n, self.interval = n, interval

    def revision(self) -> int:
        return 1

    def list(self, kind: str | None = None, namespace: str | None = None) -> Iterator[Any]:
        from app.controller.status import object_status
        from app.store import ResourceRecord

        for i in range(self.n):
            spec = {
                "type": "http",
                "interval": self.interval,
                "timeout": "10s",
                "http": {"url": f"http://127.0.0.1:9/m{i}"},
            }
            yield ResourceRecord(
                uid=str(uuid.uuid5(_NS, f"bench/m{i}")),
                kind="Monitor",
                namespace="bench",
                name=f"m{i}",
                spec=spec,
                labels={"app": "bench"},
                spec_hash=f"{i:064x}",
                status=object_status({}, "Monitor", spec, 1, [], [], False),
            )


class MemoryStore:
    def __init__(self, n: int, interval: float) -> None:
        self.resources = MemoryResources(n, interval)


def build_catalog(n: int, interval: float) -> Any:
    """The real Catalog (so the scheduler calls exactly what it calls in production) over N
    Monitor records; it builds the MonitorEntry/MonitorSpec objects itself."""
    from app.catalog import Catalog

    catalog = Catalog(MemoryStore(n, interval))  # type: ignore[arg-type]
    catalog.refresh(force=True)
    return catalog


def _cpu() -> float:
    return time.process_time()


class GcPauses:
    """Collector pauses by generation: a full collection walks every object still unfrozen."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._t = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self._t)

    def summary(self) -> dict[str, float]:
        full = self.pauses[2]
        return {
            "gc_full_collections": len(full),
            "gc_full_max_ms": max(full) * 1000 if full else 0.0,
            "gc_young_collections": len(self.pauses[0]) + len(self.pauses[1]),
            "gc_total_ms": sum(sum(v) for v in self.pauses.values()) * 1000,
        }


def in_redis(client: Any, ns: str) -> tuple[int, int]:
    """The check_batch messages waiting in the checks queue, and the checks inside them."""
    import dramatiq

    from app.actors.broker import CHECK_QUEUE

    messages = items = 0
    for _key, raw in client.hscan_iter(f"{ns}:{CHECK_QUEUE}.msgs", count=1000):
        msg = dramatiq.Message.decode(raw)
        messages += 1
        items += len(msg.args[0]) if msg.actor_name == "check_batch" else 1
    return messages, items


def run_one(n: int, interval: float) -> dict[str, Any]:
    """One size in this process (call it in a fresh child so CPU and RSS are its own)."""
    import redis

    from app.actors import Runtime, register_actors
    from app.actors.broker import make_broker
    from app.actors.checks import guard_ttl
    from app.coord import RedisGuard, RedisLiveness
    from app.resources.loader import SecretStore
    from app.scheduler import MonitorScheduler
    from app.store import Store

    ns = unique("kkbench-sched-")
    client = redis.Redis.from_url(REDIS_URL)
    tmp = tempfile.TemporaryDirectory(prefix="kkbench-")
    sched = None
    broker = None
    try:
        broker = make_broker(REDIS_URL, ns)
        store = Store(f"sqlite:///{tmp.name}/bench.db")  # the actors need a Runtime; nothing runs here
        live = RedisLiveness(broker.client, f"{ns}:")  # type: ignore[attr-defined]
        guard = RedisGuard(broker.client, f"{ns}:inflight:", live)  # type: ignore[attr-defined]
        gc.collect()
        rss0 = proc_rss_mb()  # everything imported, nothing built
        t_cat = time.perf_counter()
        catalog = build_catalog(n, interval)
        catalog_s = time.perf_counter() - t_cat
        gc.collect()
        rss_catalog = proc_rss_mb()
        actors = register_actors(
            broker, Runtime(store=store, catalog=catalog, secrets=SecretStore(), guard=guard)
        )
        sched = MonitorScheduler(catalog, None, guard, guard_ttl, enqueue_batch=actors.enqueue_batch)
        # As the scaled-out role runs it: start as a standby (the first sync), then take the lease.
        c0, t0 = _cpu(), time.perf_counter()
        sched.start(leading=False)
        c1, t1 = _cpu(), time.perf_counter()
        added = sched.job_count()
        rss_sched = proc_rss_mb()
        # A resync as after a catalog change elsewhere: the diff by uid and shape over all N.
        catalog.refresh(force=True)
        t_re = time.perf_counter()
        sched.sync()
        resync_s = time.perf_counter() - t_re
        sched.lead()  # from now on: every monitor comes due exactly once in the next interval
        t2, c2 = time.perf_counter(), _cpu()
        pauses = GcPauses()
        gc.callbacks.append(pauses)
        # One full interval: every monitor's phase comes round exactly once.
        deadline = t2 + interval
        while time.perf_counter() < deadline:
            time.sleep(0.25)
        sched.follow()  # the window ends: no slot after this one sends
        c3, t3 = _cpu(), time.perf_counter()
        gc.callbacks.remove(pauses)
        rss_end = proc_rss_mb()
        time.sleep(0.5)  # the slot in hand, if any, finishes its sends
        sched.shutdown()
        samples = list(sched.stats.samples)
        stats = sched.stats
        sched = None
        messages, items = in_redis(client, ns)
        window_cpu = c3 - c2
        return {
            "monitors": n,
            "interval_s": interval,
            "rate_per_s": n / interval,
            "catalog_load_s": catalog_s,
            "jobs_added": added,
            "sync_s": t1 - t0,
            "sync_cpu_s": c1 - c0,
            "resync_s": resync_s,
            "window_s": t3 - t2,
            "enqueued": stats.enqueued,
            "messages": stats.messages,
            "skipped_inflight": stats.skipped_inflight,
            "in_redis_messages": messages,
            "in_redis_items": items,
            "drift_p50_s": percentile(samples, 50),
            "drift_p99_s": percentile(samples, 99),
            "drift_max_s": max(samples) if samples else float("nan"),
            "late_over_1s": sum(1 for s in samples if s > 1.0),
            "window_cpu_s": window_cpu,
            "cpu_util": window_cpu / (t3 - t2),
            "cpu_ms_per_1k": (window_cpu / stats.enqueued * 1e6) if stats.enqueued else float("nan"),
            "rss_base_mb": rss0,
            "rss_kb_per_monitor": (rss_end - rss0) * 1024 / n,
            "rss_catalog_kb_per_monitor": (rss_catalog - rss0) * 1024 / n,
            "rss_schedule_kb_per_monitor": (rss_sched - rss_catalog) * 1024 / n,
            "objects_tracked": len(gc.get_objects()),
            **pauses.summary(),
        }
    finally:
        if sched is not None:
            sched.shutdown()
        if broker is not None:
            broker.close()
        for _ in range(2):
            for key in client.scan_iter(f"{ns}*", count=1000):
                client.delete(key)
        client.close()
        tmp.cleanup()


def _child(n: int, interval: float) -> dict[str, Any]:
    cmd = [python(), "-m", "bench.scheduler", "--one", str(n), "--interval", str(interval)]
    proc = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, timeout=interval + 300)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return dict(json.loads(line))
    raise RuntimeError(f"scheduler child for {n} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def main(quick: bool = False) -> dict[str, Any]:
    interval = 20.0 if quick else 60.0
    say(
        f"== scheduler: real slot scheduler -> Redis, interval {interval:g}s, one interval per size"
        f" (load {load_average()})"
    )
    results = []
    for n in SIZES:
        say(f"   {n:>6} monitors ...")
        try:
            r = _child(n, interval)
        except Exception as exc:  # one size failing must not hide the others
            say(f"   {n} monitors: failed: {exc}")
            continue
        results.append(r)
        say(
            f"   {n:>6} monitors: drift p50 {r['drift_p50_s'] * 1000:.1f} ms,"
            f" p99 {r['drift_p99_s'] * 1000:.1f} ms, {r['enqueued']}/{n} enqueued in {r['messages']} messages"
            f" ({r['in_redis_items']} in {r['in_redis_messages']} in Redis), CPU {r['cpu_util'] * 100:.1f}%,"
            f" RSS {r['rss_kb_per_monitor']:.2f} KB/monitor"
        )
    rows = [
        (
            r["monitors"],
            r["rate_per_s"],
            r["sync_s"],
            r["resync_s"],
            r["drift_p50_s"] * 1000,
            r["drift_p99_s"] * 1000,
            r["drift_max_s"] * 1000,
            f"{r['enqueued']}/{r['monitors']}",
            r["messages"],
            f"{r['in_redis_items']}/{r['in_redis_messages']}",
            r["window_cpu_s"],
            r["cpu_ms_per_1k"],
            r["rss_kb_per_monitor"] * 1000 / 1024,
            r["rss_catalog_kb_per_monitor"] * 1000 / 1024,
            r["gc_full_collections"],
        )
        for r in results
    ]
    say(
        table(
            rows,
            [
                "monitors",
                "checks/s",
                "sync s",
                "resync s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "enqueued",
                "messages",
                "Redis items/msgs",
                "CPU s",
                "CPU ms/1k",
                "RSS MB/1k",
                "catalog MB/1k",
                "full GCs",
            ],
        )
    )
    big = [r for r in results if r["monitors"] == max(SIZES)]
    if big:
        p99, rss = big[0]["drift_p99_s"], big[0]["rss_kb_per_monitor"]
        note = (
            "" if interval == 60 else f" (measured at {interval:g}s, i.e. {60 / interval:g}x the target rate)"
        )
        say(
            f"   target drift p99 < {TARGET_P99_S:g}s at {max(SIZES)} monitors/60s: {p99:.3f}s ->"
            f" {'meets' if p99 < TARGET_P99_S else 'MISSES'}{note}"
        )
        say(
            f"   target RSS < {TARGET_RSS_KB:g} KB per monitor: {rss:.2f} KB ->"
            f" {'meets' if rss < TARGET_RSS_KB else 'MISSES'}"
        )
    if len(results) >= 2:
        # What each further 1,000 monitors cost, with the fixed part (threads, buffers) taken out.
        lo, hi = results[0], results[-1]
        total = [r["rss_kb_per_monitor"] * r["monitors"] / 1024 for r in (lo, hi)]
        slope = (total[1] - total[0]) * 1024 / (hi["monitors"] - lo["monitors"])
        say(f"   RSS per further monitor, {lo['monitors']} -> {hi['monitors']}: {slope:.2f} KB")
    out = {
        "interval_s": interval,
        "quick": quick,
        "results": results,
        "median_cpu_ms_per_1k": median(r["cpu_ms_per_1k"] for r in results),
    }
    say(f"   raw figures: {save('scheduler', out)}")
    return out


def _cli() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.scheduler")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--one", type=int, help="run one size in this process and print JSON")
    ap.add_argument("--interval", type=float, default=60.0)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.interval)), flush=True)
        return
    main(args.quick)


if __name__ == "__main__":
    sys.exit(_cli())
