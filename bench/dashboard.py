"""Dashboard: server time per page with 1,000 monitors and 90 days of history.

A fresh SQLite store (and PostgreSQL unless `--quick`) gets 1,000 monitors in 10
namespaces, 90 days of rollups generated in SQL (day buckets for 90 days, hour buckets for
90 days, minute buckets for the last 48 h, as retention keeps them), and a few real checks
per monitor recorded through the real state machine (states, heartbeats, incidents for the
3 % that are DOWN). Each page is then asked for through the real WSGI app
(falcon.testing, with an admin API key through the access middleware) and timed from
request to finished body: p50 and p95 over repeated requests, after a warm-up, with the
process's CPU time per request beside them (on a shared machine the wall time includes
waiting for a core; the CPU time does not — nor, on PostgreSQL, the database server's).

Pages: the overview, the live update JSON, the monitor list (plain, filtered, sorted by
uptime, the last page), a monitor page per chart range, and the pages of the other
dashboard work when their routes exist (`OTHER_PAGES`, skipped when they answer 404).
Targets: every page p95 under 100 ms; the live update under 20 ms. Printed, never asserted.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2
from falcon.testing import TestClient
from pony.orm import db_session

from app.alerting.state import RetryPolicy, next_state
from app.catalog import Catalog
from app.http.access.hashing import key_hash, new_key
from app.http.access.middleware import AccessOptions
from app.http.app import create_app
from app.model import CheckResult, FailureClass, MonitorSnapshot
from app.resources.loader import SecretStore
from app.resources.registry import folder_uid
from app.store import ResourceRecord, Store
from app.uptime.windows import floor
from bench.common import PG_ADMIN, percentile, save, say, table, unique

MONITORS = 1000
NAMESPACES = 10
DAYS = 90
DOWN_EVERY = 33  # every 33rd monitor is DOWN now (3 %)

PAGES = {
    "overview": "/",
    "live update": "/live/overview",
    "monitors": "/monitors",
    "monitors, filtered": "/monitors?namespace=ns3&label=team%3Dteam1&q=m0",
    "monitors, state=down": "/monitors?state=down",
    "monitors, by uptime": "/monitors?sort=uptime",
    "monitors, page 10": "/monitors?sort=-latency&page=10",
    "monitor 1h": "/monitors/ns0/m0000?range=1h",
    "monitor 24h": "/monitors/ns0/m0000?range=24h",
    "monitor 7d": "/monitors/ns0/m0000?range=7d",
    "monitor 30d": "/monitors/ns0/m0000?range=30d",
}
# The other dashboard pages (dash-pages): timed when the route exists.
OTHER_PAGES = {
    name: url
    for name, url in [
        ("incidents", "/incidents"), ("deliveries", "/deliveries"), ("silences", "/silences"),
        ("maintenance", "/maintenance"), ("status pages", "/status-pages"), ("providers", "/providers"),
        ("policies", "/policies"), ("settings", "/settings"), ("API keys", "/api-keys"), ("audit", "/audit"),
        ("deliveries, failed", "/deliveries?status=failed"),
        ("deliveries, one provider", "/deliveries?provider=ns0/hook0"),
        ("incidents, closed", "/incidents?state=closed"), ("maintenance, 366 days", "/maintenance?days=366"),
    ]
}  # fmt: skip


def _monitor(i: int) -> ResourceRecord:
    ns, name = f"ns{i % NAMESPACES}", f"m{i:04d}"
    spec = {"type": "http", "interval": "60s", "description": f"service {i}",
            "http": {"url": f"https://svc{i}.internal/healthz"}}  # fmt: skip
    labels = {"team": f"team{i % 7}", "tier": "critical" if i % 5 == 0 else "low"}
    return ResourceRecord(folder_uid("Monitor", ns, name), "Monitor", ns, name, spec, labels=labels,
                          spec_hash=f"m{i}")  # fmt: skip


def _rollups_sql(dialect: str) -> str:
    """One INSERT per resolution: every monitor × `count` buckets `step` seconds apart from `start`."""
    if dialect == "sqlite":
        return (
            "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < $count) "
            "INSERT INTO kk_uptime (monitor_uid, resolution, bucket, up, down, maintenance, latency_sum, "
            "latency_count) SELECT r.uid, $res, strftime('%Y-%m-%d %H:%M:%S', $start, '+' || (s.n * $step) "
            "|| ' seconds'), $per - (CASE WHEN (s.n + r.rowid) % 97 = 0 THEN 1 ELSE 0 END), "
            "CASE WHEN (s.n + r.rowid) % 97 = 0 THEN 1 ELSE 0 END, 0, "
            "$per * (20 + (s.n + r.rowid) % 13), $per "
            "FROM kk_resources r CROSS JOIN s WHERE r.kind = 'Monitor'"
        )
    return (
        "INSERT INTO kk_uptime (monitor_uid, resolution, bucket, up, down, maintenance, latency_sum, "
        "latency_count) SELECT r.uid, $res, $start::timestamp + make_interval(secs => s.n * $step), "
        "$per - (CASE WHEN mod(s.n + r.revision, 97) = 0 THEN 1 ELSE 0 END), "
        "CASE WHEN mod(s.n + r.revision, 97) = 0 THEN 1 ELSE 0 END, 0, "
        "$per * (20 + mod(s.n + r.revision, 13)), "
        "$per FROM kk_resources r CROSS JOIN generate_series(0, $count - 1) AS s(n) WHERE r.kind = 'Monitor'"
    )


def seed(store: Store, now: datetime) -> tuple[str, dict[tuple[str, str], dict[str, str]]]:
    """Monitors, 90 days of rollups, a few real checks each, and an admin key; returns the key."""
    store.resources.sync([_monitor(i) for i in range(MONITORS)])
    key = new_key()
    secrets = {("default", "bench-key"): {"hash": key_hash(key)}}
    spec = {"role": "admin", "scopes": [], "keyHashSecretRef": {"name": "bench-key", "key": "hash"}}
    uid = folder_uid("ApiKey", "default", "bench")
    store.resources.upsert(ResourceRecord(uid, "ApiKey", "default", "bench", spec, spec_hash="bench"))
    start_now = floor(now, "m") - timedelta(minutes=10)  # the real checks below fill the last minutes
    plan = [
        ("d", floor(now, "d") - timedelta(days=DAYS), 86400, DAYS, 1440),
        ("h", floor(now, "h") - timedelta(days=DAYS), 3600, DAYS * 24, 60),
        ("m", start_now - timedelta(hours=48), 60, 48 * 60, 1),
    ]
    sql = _rollups_sql(store.dialect)
    for res, start, step, count, per in plan:
        t0 = time.perf_counter()
        with db_session:
            store.db.execute(sql, {"res": res, "start": start.replace(tzinfo=None), "step": step,
                                   "count": count, "per": per})  # fmt: skip
        say(f"   seeded {res} rollups: {MONITORS} × {count} in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    uids = [_monitor(i).uid for i in range(MONITORS)]
    for k in range(3):
        at = start_now + timedelta(minutes=2 + 2 * k)
        for i, uid in enumerate(uids):
            ok = i % DOWN_EVERY != 0
            result = (CheckResult.up(20.0 + i % 50, statusCode=200) if ok
                      else CheckResult.down(FailureClass.REFUSED, "connection refused", 3.0))  # fmt: skip

            def decide(prev: MonitorSnapshot | None, result: CheckResult = result, at: datetime = at) -> Any:
                return next_state(prev, result, RetryPolicy(), False, at)

            store.checks.record(uid, result, decide, at)
    say(f"   recorded {3 * MONITORS} checks in {time.perf_counter() - t0:.1f} s")
    seed_alerting(store, now, uids)
    return key, secrets


def seed_alerting(store: Store, now: datetime, uids: list[str]) -> None:
    """What the alerting pages read: 5 providers, 20 policies, 40 silences (half expired), 10 maintenance
    windows (half daily), 3 status pages of 100 monitors, and 5,000 deliveries of every status."""
    t0 = time.perf_counter()
    recs = []

    def add(kind: str, ns: str, name: str, spec: dict[str, Any]) -> None:
        recs.append(
            ResourceRecord(folder_uid(kind, ns, name), kind, ns, name, spec, spec_hash=f"{kind}{ns}{name}")
        )

    for i in range(5):
        add(
            "NotificationProvider",
            f"ns{i}",
            f"hook{i}",
            {"type": "webhook", "webhook": {"url": f"https://hooks.internal/{i}"}},
        )
    for i in range(20):
        sel = {"matchLabels": {"team": f"team{i % 7}"}} if i % 4 else {}
        add("NotificationPolicy", f"ns{i % NAMESPACES}", f"policy{i}", {
            "priority": i, "namespaces": ["*"], "monitorSelector": sel, "continue": i % 3 == 0,
            "providers": [{"name": f"hook{i % 5}", "namespace": f"ns{i % 5}"}]})  # fmt: skip
    for i in range(40):
        ends = now + timedelta(hours=2) if i % 2 else now - timedelta(days=i)
        add("Silence", f"ns{i % NAMESPACES}", f"silence{i}", {
            "matchers": [{"name": "team", "value": f"team{i % 7}"}],
            "startsAt": (ends - timedelta(hours=4)).isoformat(), "endsAt": ends.isoformat(),
            "comment": f"bench {i}",
        })  # fmt: skip
    for i in range(10):
        spec: dict[str, Any] = {
            "title": f"Window {i}", "monitorSelector": {"matchLabels": {"tier": "critical"}},
            "start": "2024-01-01T03:00:00", "duration": "30m", "timezone": "Europe/Berlin",
        }  # fmt: skip
        if i % 2:
            spec["rrule"] = "FREQ=DAILY"
        add("MaintenanceWindow", f"ns{i}", f"window{i}", spec)
    for i in range(3):
        add("StatusPage", f"ns{i}", f"page{i}", {"slug": f"page{i}", "title": f"Page {i}",
                                                  "groups": [{"name": "All", "selector": {}}]})  # fmt: skip
    for r in recs:
        store.resources.upsert(r)
    statuses = ("sent", "sent", "sent", "failed", "suppressed", "superseded", "pending")
    for i in range(5000):
        provider = folder_uid("NotificationProvider", f"ns{i % 5}", f"hook{i % 5}")
        status = statuses[i % len(statuses)]
        event = "down" if i % 2 else "up"
        why = "HTTP 500" if status == "failed" else "silenced"
        at = now - timedelta(minutes=i)
        store.deliveries.create(
            f"bench-{i}", provider, uids[i % len(uids)], event, status, "t", "", at, reason=why
        )
    say(f"   seeded alerting objects and 5,000 deliveries in {time.perf_counter() - t0:.1f} s")


Row = tuple[str, float, float, float, int]  # page, wall p50 ms, wall p95 ms, CPU p95 ms, body bytes


def time_pages(client: TestClient, pages: dict[str, str], n: int) -> list[Row]:
    rows = []
    for name, url in pages.items():
        path, _, query = url.partition("?")
        first = client.simulate_get(path, query_string=query)
        if first.status_code == 404 and name in OTHER_PAGES:
            continue
        assert first.status_code == 200, (url, first.status_code, first.text[:200])
        for _ in range(3):
            client.simulate_get(path, query_string=query)
        times, cpu = [], []
        for _ in range(n):
            t0, c0 = time.perf_counter(), time.process_time()
            client.simulate_get(path, query_string=query)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        size = len(first.content)
        rows.append((name, percentile(times, 50), percentile(times, 95), percentile(cpu, 95), size))
    return rows


def run(url: str, label: str, n: int) -> list[Row]:
    say(f"-- {label}: seeding {MONITORS} monitors with {DAYS} days of rollups")
    store = Store(url)
    try:
        now = datetime.now(UTC)
        key, secrets = seed(store, now)
        if store.dialect == "postgres":
            with db_session:
                store.db.execute("ANALYZE")
        app = create_app(store, Catalog(store), access=AccessOptions(secrets=SecretStore(secrets)))
        client = TestClient(app, headers={"Authorization": f"Bearer {key}"})
        rows = time_pages(client, {**PAGES, **OTHER_PAGES}, n)
    finally:
        store.close()
    say(table([(name, p50, p95, cpu, f"{size / 1024:.0f} KiB") for name, p50, p95, cpu, size in rows],
              ["page", "p50 ms", "p95 ms", "CPU p95 ms", "body"]))  # fmt: skip
    worst = max((p95 for name, _, p95, _, _ in rows if name != "live update"), default=0.0)
    live = next((p95 for name, _, p95, _, _ in rows if name == "live update"), 0.0)
    say(f"   target: every page p95 < 100 ms (worst {worst:.1f} ms); live update p95 < 20 ms ({live:.1f} ms)")
    return rows


def _pg_database() -> tuple[str, Any]:
    name = unique("kk_bench_dashboard_")
    admin = psycopg2.connect(PG_ADMIN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, (admin, name)


def main(quick: bool = False) -> dict[str, Any]:
    n = 20 if quick else 60
    say(f"== dashboard: server time per page, {MONITORS} monitors, {DAYS} days of history, {n} requests each")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = run(f"sqlite:///{Path(tmp) / 'kk.db'}", "SQLite", n)
    if not quick:
        url, (admin, name) = _pg_database()
        try:
            results["postgres"] = run(url, "PostgreSQL", n)
        finally:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    save("dashboard", results)
    return results


if __name__ == "__main__":
    main()
