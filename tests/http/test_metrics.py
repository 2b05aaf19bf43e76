"""/metrics: monitor state read at scrape time, and the pipeline counters of this process."""

from __future__ import annotations

import time
from datetime import timedelta

import dramatiq
from dramatiq.brokers.stub import StubBroker
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from app.catalog import Catalog
from app.coord import LocalGuard
from app.http.access.middleware import AccessOptions
from app.http.app import create_app
from app.http.metrics import PipelineSources, WorkerMetrics
from app.http.public import PublicOptions
from app.scheduler import MonitorScheduler
from tests.access import client_as, grant_key
from tests.http.conftest import Site


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def mon(name: str, ns: str = "shop", type_: str = "http", **extra: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"namespace": ns, "name": name, "type": type_, **extra}.items()))


def test_monitor_metrics_read_at_scrape_time(site: Site) -> None:
    now = site.now
    cert = {"expiresAt": (now + timedelta(days=20)).isoformat().replace("+00:00", "Z")}
    site.check("checkout-api", True, now - timedelta(hours=30), latency_ms=100.0)
    site.check("checkout-api", False, now - timedelta(minutes=3), latency_ms=None)
    site.check("checkout-api", True, now - timedelta(minutes=1), latency_ms=42.0, cert=cert)
    site.check("search", False, now - timedelta(minutes=1))  # opens an incident
    r = site.client.simulate_get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    m = samples(r.text)
    assert m[("kubekuma_monitor_state", mon("checkout-api", state="UP"))] == 1.0
    assert m[("kubekuma_monitor_state", mon("checkout-api", state="DOWN"))] == 0.0
    assert m[("kubekuma_monitor_state", mon("search", type_="tcp", state="DOWN"))] == 1.0
    assert m[("kubekuma_monitor_up", mon("checkout-api"))] == 1.0
    assert m[("kubekuma_monitor_up", mon("search", type_="tcp"))] == 0.0
    assert m[("kubekuma_monitor_latency_seconds", mon("checkout-api"))] == 0.042
    assert m[("kubekuma_monitor_uptime_ratio", mon("checkout-api", window="24h"))] == 0.5
    assert m[("kubekuma_monitor_uptime_ratio", mon("checkout-api", window="7d"))] == 2 / 3
    expires = m[("kubekuma_monitor_certificate_expiry_timestamp_seconds", mon("checkout-api"))]
    assert (expires - now.timestamp()) / 86400 == 20.0
    assert not any(name == "kubekuma_monitor_certificate_days_left" for name, _ in m), (
        "promtool: not a base unit"
    )
    assert m[("kubekuma_monitor_incident_open", mon("search", type_="tcp"))] == 1.0
    assert m[("kubekuma_incidents_open", ())] == 1.0
    assert m[("kubekuma_checks_recorded_total", ())] == 4.0
    assert ("kubekuma_monitor_up", mon("internal-db", type_="tcp")) in m, "every monitor, checked or not"
    assert r.headers["cache-control"] == "no-store"


def test_pipeline_metrics_of_an_embedded_process(site: Site) -> None:
    """Worker counters (a real Dramatiq worker), scheduler stats and queue depth share one registry."""
    registry = CollectorRegistry()
    broker = StubBroker()
    broker.emit_after("process_boot")
    broker.add_middleware(WorkerMetrics(registry, late_after_s=5.0))
    runs = iter([None, None, RuntimeError("database away"), None])

    def check_monitor(uid: str, generation: int, scheduled_at: float) -> None:
        error = next(runs)
        if error is not None:
            raise error

    actor = dramatiq.actor(
        check_monitor, actor_name="check_monitor", queue_name="checks", broker=broker, max_retries=0
    )
    catalog = Catalog(site.store)
    sched = MonitorScheduler(catalog, enqueue=lambda *a: None, guard=LocalGuard(), guard_ttl=lambda t: t)
    sched.stats.enqueued, sched.stats.skipped_inflight = 7, 2
    for lateness in (0.01, 0.02, 0.5, 40.0):
        sched.stats.add(lateness)
    pipeline = PipelineSources(queue_depths=lambda: {"checks": 3, "alerts": 0}, scheduler=lambda: sched)
    app = create_app(site.store, catalog, public=PublicOptions(registry=registry, pipeline=pipeline),
                     access=AccessOptions(secrets=site.secrets))  # fmt: skip
    scraper = grant_key(site.store, site.secrets, "viewer", "scraper", scopes=["metrics:read"])
    now = time.time()
    for planned in (now, now, now - 30, now):
        actor.send("uid", 1, planned)
    worker = dramatiq.Worker(broker, worker_timeout=50)
    worker.start()
    try:
        broker.join("checks", fail_fast=False)
        worker.join()
    finally:
        worker.stop()
    m = samples(client_as(app, scraper).simulate_get("/metrics").text)
    assert m[("kubekuma_checks_run_total", ())] == 3.0
    assert m[("kubekuma_checks_failed_total", ())] == 1.0, "the actor raised once"
    assert m[("kubekuma_checks_late_total", ())] == 1.0
    assert m[("kubekuma_check_start_delay_seconds_count", ())] == 4.0
    assert m[("kubekuma_checks_enqueued_total", ())] == 7.0
    assert m[("kubekuma_checks_skipped_inflight_total", ())] == 2.0
    assert m[("kubekuma_queue_depth", (("queue", "checks"),))] == 3.0
    assert m[("kubekuma_scheduler_drift_seconds_bucket", (("le", "0.01"),))] == 1.0
    assert m[("kubekuma_scheduler_drift_seconds_bucket", (("le", "0.5"),))] == 3.0
    assert m[("kubekuma_scheduler_drift_seconds_bucket", (("le", "+Inf"),))] == 4.0
    assert m[("kubekuma_scheduler_drift_seconds_count", ())] == 4.0
    assert m[("kubekuma_scheduler_drift_seconds_sum", ())] == 40.53
    assert m[("kubekuma_scheduler_leading", ())] == 0.0


def test_batch_messages_count_as_the_checks_they_carry(site: Site) -> None:
    """A check_batch message: its start delay, lateness, runs and failures are counted per check."""
    registry = CollectorRegistry()
    broker = StubBroker()
    broker.emit_after("process_boot")
    broker.add_middleware(WorkerMetrics(registry, late_after_s=5.0))
    runs = iter([None, RuntimeError("database away")])

    def check_batch(items: list[list[object]]) -> None:
        error = next(runs)
        if error is not None:
            raise error

    actor = dramatiq.actor(check_batch, actor_name="check_batch", queue_name="checks", broker=broker,
                           max_retries=0)  # fmt: skip
    catalog = Catalog(site.store)
    app = create_app(site.store, catalog, public=PublicOptions(registry=registry, pipeline=PipelineSources()),
                     access=AccessOptions(secrets=site.secrets))  # fmt: skip
    scraper = grant_key(site.store, site.secrets, "viewer", "scraper", scopes=["metrics:read"])
    now = time.time()
    actor.send([["a", 1, now, "t1"], ["b", 1, now - 30, "t2"], ["c", 1, now, None]])
    actor.send([["d", 1, now, "t4"], ["e", 1, now, "t5"]])  # this one raises
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        broker.join("checks", fail_fast=False)
        worker.join()
    finally:
        worker.stop()
    m = samples(client_as(app, scraper).simulate_get("/metrics").text)
    assert m[("kubekuma_checks_run_total", ())] == 3.0
    assert m[("kubekuma_checks_failed_total", ())] == 2.0, "both checks of the batch that raised"
    assert m[("kubekuma_checks_late_total", ())] == 1.0
    assert m[("kubekuma_check_start_delay_seconds_count", ())] == 5.0
