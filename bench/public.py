"""Public face: status page and badge latency and throughput at 10k and at 10M stored heartbeats.

One PostgreSQL database, 50 monitors on one status page. The history is generated in SQL
(`generate_series`) and rolled up the way the worker writes it. The web app runs on
waitress (8 threads) in this process; the load comes from keep-alive client threads in
separate processes, asking for gzip as browsers do.
Each size is measured twice: as served (the 10 s render cache in front) and with the
cache off, where every request builds the page from the database — that is the cost that
must not grow with the history.

Targets: 10M/10k latency ratio below 1.2; status page p99 below 50 ms at 50 monitors.
Figures are printed, never asserted (the machine is small and shared).
"""

from __future__ import annotations

import http.client
import logging
import multiprocessing as mp
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2

from bench.common import PG_ADMIN, free_port, percentile, quick_from_env, save, say, table, unique

MONITORS = 50
HISTORY_DAYS = 100
PAGE = """\
apiVersion: kubekuma.io/v1alpha1
kind: StatusPage
metadata: {name: bench, namespace: bench}
spec:
  slug: bench
  title: Bench
  groups: [{name: All, selector: {matchLabels: {public: "true"}}}]
"""
MONITOR = """\
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: m{i:02d}, namespace: bench, labels: {{public: "true"}}}}
spec: {{type: tcp, interval: 20s, tcp: {{host: host{i}.internal, port: 443}}}}
"""
ENDPOINTS = {
    "status page": "/status/bench",
    "status JSON": "/api/v1/status/bench",
    "uptime badge": "/badge/bench/m07/uptime.svg?window=30d",
    "status badge": "/badge/bench/m07/status.svg",
}


def _database() -> tuple[str, Any]:
    name = unique("kk_bench_public_")
    admin = psycopg2.connect(PG_ADMIN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, (admin, name)


def _drop(handle: Any) -> None:
    admin, name = handle
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _analyze(url: str) -> None:
    """What autovacuum would have done after a bulk load: fresh planner statistics."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE kk_heartbeats")
        cur.execute("VACUUM ANALYZE kk_uptime")
    conn.close()


def _fill(store: Any, uids: list[str], per_monitor: int, every_s: int, end: datetime, now: datetime) -> float:
    """`per_monitor` heartbeats per monitor ending at `end`, then rollups as retention leaves them."""
    from app.uptime import KEEP

    t0 = time.monotonic()
    start = end - timedelta(seconds=per_monitor * every_s)
    store.rollups.synthesize_heartbeats(uids, start, per_monitor, every_s, down_every=50)
    oldest = now - timedelta(days=800)
    for res in ("m", "h", "d"):
        store.rollups.rebuild(res, max(oldest, now - KEEP[res]), now)
    return time.monotonic() - t0


def _load(port: int, path: str, seconds: float, threads: int) -> tuple[list[float], int]:
    """Keep-alive clients hitting one path for `seconds`, as a browser would (gzip accepted)."""
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    headers = {"Accept-Encoding": "gzip"}

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.monotonic() < stop_at:
            t = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if ok:
                mine.append((time.perf_counter() - t) * 1000)
            else:
                with lock:
                    errors[0] += 1
        conn.close()
        with lock:
            lat.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return lat, errors[0]


def _child(port: int, path: str, seconds: float, threads: int, out: Any) -> None:
    out.put(_load(port, path, seconds, threads))


def _load_elsewhere(
    port: int, path: str, seconds: float, threads: int, processes: int
) -> tuple[list[float], int]:
    """The clients run in their own processes, so they do not share the server's interpreter lock."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(port, path, seconds, threads, out)) for _ in range(processes)]
    for p in procs:
        p.start()
    lat: list[float] = []
    errors = 0
    for _ in procs:
        got, err = out.get(timeout=seconds + 120)
        lat += got
        errors += err
    for p in procs:
        p.join()
    return lat, errors


class _Site:
    """One database, 50 monitors on one page, a history of `heartbeats` rows, served on its own port."""

    def __init__(self, label: str, heartbeats: int) -> None:
        self.label, self.target = label, heartbeats
        self.url, self.handle = _database()
        self.server: Any = None
        self.fill_s = 0.0

    def build(self) -> _Site:
        import waitress

        from app.alerting.state import RetryPolicy, next_state
        from app.catalog import Catalog
        from app.controller.folder import records_from
        from app.http.app import create_app
        from app.http.cache import RenderCache
        from app.http.public import PublicOptions
        from app.model import CheckResult
        from app.resources.loader import load_folder
        from app.store import Store

        self.store = store = Store(self.url)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "bench.yaml").write_text(
                PAGE + "".join(MONITOR.format(i=i) for i in range(MONITORS))
            )
            store.resources.sync(records_from(load_folder(Path(tmp), "default"))[0])
        catalog = Catalog(store)
        uids = sorted(m.uid for m in catalog.monitors())
        now = datetime.now(UTC)
        for uid in uids:  # one real check each: the state the page shows
            ok = CheckResult.up(12.0)
            store.checks.record(uid, ok, lambda p, ok=ok: next_state(p, ok, RetryPolicy(), False, now), now)
        # Both sizes span the same 100 days, so both pages show 90 full days of bars: what differs
        # is only how many heartbeats made them (10k: one per monitor every 12 h; 10M: every 43 s).
        per_monitor = self.target // MONITORS - 1
        every_s = HISTORY_DAYS * 86400 // per_monitor
        self.fill_s = _fill(store, uids, per_monitor, every_s, now - timedelta(seconds=5), now)
        _analyze(self.url)
        self.heartbeats = store.checks.count_heartbeats()
        self.rollups = store.rollups.count()
        self.cache = RenderCache(ttl=10.0)
        app = create_app(store, catalog, public=PublicOptions(cache=self.cache))
        self.port = free_port()
        self.server = waitress.create_server(
            app, host="127.0.0.1", port=self.port, threads=8, ident="kubekuma"
        )
        threading.Thread(target=self.server.run, daemon=True).start()
        return self

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.store.close()
        _drop(self.handle)


def _measure(sites: list[_Site], seconds: float, threads: int, rounds: int) -> list[dict[str, Any]]:
    """Each endpoint on each site in turn, `rounds` times, so noise on the machine hits both sizes alike."""
    rows = []
    for cached in (True, False):
        for name, path in ENDPOINTS.items():
            lat: dict[str, list[float]] = {s.label: [] for s in sites}
            errors = dict.fromkeys(lat, 0)
            for _ in range(rounds):
                for site in sites:
                    site.cache.ttl = 10.0 if cached else 0.0
                    site.cache.clear()
                    _load(site.port, path, 0.3, 2)  # warm: templates, catalog, connections
                    # As served: 2 processes x `threads` clients. Cache off: one client, one build each.
                    got, err = _load_elsewhere(
                        site.port, path, seconds, threads if cached else 1, 2 if cached else 1
                    )
                    lat[site.label] += got
                    errors[site.label] += err
            for label, values in lat.items():
                rows.append(
                    {
                        "history": label,
                        "endpoint": name,
                        "cache": "on" if cached else "off",
                        "p50_ms": percentile(values, 50),
                        "p99_ms": percentile(values, 99),
                        "rps": len(values) / (seconds * rounds),
                        "errors": errors[label],
                    }
                )
    return rows


def main(quick: bool | None = None) -> dict[str, Any]:
    quick = quick_from_env() if quick is None else quick
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # a queue under load is the point here
    big = 1_000_000 if quick else 10_000_000
    seconds, rounds = (2.0, 1) if quick else (4.0, 2)
    threads = 4  # per client process
    sites = [_Site("10k", 10_000), _Site(f"{big // 1_000_000}M", big)]
    try:
        for site in sites:
            site.build()
        say(
            f"== public: {MONITORS} monitors on one status page, PostgreSQL, waitress 8 threads; "
            f"clients in 2 processes x {threads} threads (cache on) or 1 (cache off); "
            f"{rounds} x {seconds:.0f} s each"
        )
        for site in sites:
            say(
                f"   {site.label}: {site.heartbeats:,} heartbeats, {site.rollups:,} rollup rows, "
                f"filled and rolled up in {site.fill_s:.1f} s"
            )
        rows = _measure(sites, seconds, threads, rounds)
    finally:
        for site in sites:
            site.close()
    small_label, big_label = sites[0].label, sites[1].label
    say(
        table(
            [
                [r["history"], r["endpoint"], r["cache"], r["p50_ms"], r["p99_ms"], r["rps"], r["errors"]]
                for r in rows
            ],
            ["history", "endpoint", "cache", "p50 ms", "p99 ms", "req/s", "errors"],
        )
    )
    small = {(r["endpoint"], r["cache"]): r for r in rows if r["history"] == small_label}
    ratios = [
        [
            r["endpoint"],
            r["cache"],
            r["p50_ms"] / small[(r["endpoint"], r["cache"])]["p50_ms"],
            r["p99_ms"] / small[(r["endpoint"], r["cache"])]["p99_ms"],
        ]
        for r in rows
        if r["history"] == big_label
    ]
    say(f"\n   latency at {big_label} / at {small_label} heartbeats (target < 1.2):")
    say(table(ratios, ["endpoint", "cache", "p50 ratio", "p99 ratio"]))
    page = next(
        r for r in rows if r["history"] == big_label and r["endpoint"] == "status page" and r["cache"] == "on"
    )
    say(f"   status page p99 at {big_label} heartbeats, as served: {page['p99_ms']:.1f} ms (target < 50 ms)")
    result = {"rows": rows, "ratios": ratios, "heartbeats": [s.heartbeats for s in sites]}
    save("public", result)
    return result


if __name__ == "__main__":
    main()
