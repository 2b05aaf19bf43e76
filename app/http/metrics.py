"""/metrics for Prometheus: monitor state read at scrape time, plus the pipeline's own counters.

Monitor figures come from the database when Prometheus scrapes (a custom Collector), so
every `web` process answers the same and nothing drifts between processes: state, up,
last latency, uptime ratios from rollups (one query for every monitor and window),
certificate expiry (a timestamp: promtool accepts only base units), open incidents,
deliveries by status, checks recorded.

Pipeline figures are counted where they happen: the scheduler's enqueue counts and
drift come from `MonitorScheduler.stats`, the worker's run/failed/late counts from a
Dramatiq middleware, the queue depth from the broker. In the embedded default all of
them share the process's registry and appear here; scaled out, the web process shows
the queue depth and the database figures, and worker and scheduler counters stay in
their own processes (see docs/api.md, "Metrics").
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dramatiq
import falcon
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from app.catalog import Catalog
from app.checkers import timing
from app.http.reads import certificate, uptime_windows
from app.model import State
from app.store import Store

METRIC_WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
LATE_AFTER_S = 5.0  # a check that starts this long after its planned time counts as late


@dataclass
class PipelineSources:
    """Where this process can see the pipeline from; each is optional."""

    queue_depths: Callable[[], dict[str, int]] | None = None
    scheduler: Callable[[], Any] | None = None  # returns a MonitorScheduler (or None before it starts)


class MonitorCollector(Collector):
    def __init__(self, store: Store, catalog: Catalog, clock: Callable[[], datetime]) -> None:
        self.store, self.catalog, self.clock = store, catalog, clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        monitors = sorted(self.catalog.monitors(), key=lambda m: (m.namespace, m.name))
        states = self.store.checks.states()
        windows = uptime_windows(self.store, None, METRIC_WINDOWS, now)
        open_by_uid = self.store.rollups.open_incident_counts()
        labels = ["namespace", "name", "type"]
        state = GaugeMetricFamily(
            "kubekuma_monitor_state",
            "1 for the monitor's current state, 0 for the others",
            labels=[*labels, "state"],
        )
        up = GaugeMetricFamily("kubekuma_monitor_up", "1 when the monitor is UP, 0 otherwise", labels=labels)
        latency = GaugeMetricFamily(
            "kubekuma_monitor_latency_seconds", "latency of the last check", labels=labels
        )
        ratio = GaugeMetricFamily(
            "kubekuma_monitor_uptime_ratio",
            "share of UP checks in the window (rollups)",
            labels=[*labels, "window"],
        )
        cert_expiry = GaugeMetricFamily(
            "kubekuma_monitor_certificate_expiry_timestamp_seconds",
            "when that certificate expires (unix time)",
            labels=labels,
        )
        incident = GaugeMetricFamily(
            "kubekuma_monitor_incident_open", "1 while the monitor has an open incident", labels=labels
        )
        for m in monitors:
            lv = [m.namespace, m.name, m.spec.type.value]
            st = states.get(m.uid)
            current = st.state if st else None
            for s in State:
                state.add_metric([*lv, s.value], 1.0 if current == s.value else 0.0)
            up.add_metric(lv, 1.0 if current == State.UP.value else 0.0)
            if st and st.latency_ms is not None:
                latency.add_metric(lv, st.latency_ms / 1000.0)
            for w in METRIC_WINDOWS:
                r = windows[w].get(m.uid)
                if r is not None and r.ratio is not None:
                    ratio.add_metric([*lv, w], r.ratio)
            cert = certificate(st.details if st else None, now)
            if cert and "daysLeft" in cert:
                expires = datetime.fromisoformat(str(cert["expiresAt"]).replace("Z", "+00:00"))
                cert_expiry.add_metric(lv, expires.timestamp())
            incident.add_metric(lv, 1.0 if open_by_uid.get(m.uid) else 0.0)
        yield from (state, up, latency, ratio, cert_expiry, incident)
        total = GaugeMetricFamily("kubekuma_incidents_open", "open incidents over all monitors")
        total.add_metric([], float(sum(open_by_uid.values())))
        yield total
        deliveries = GaugeMetricFamily(
            "kubekuma_notification_deliveries", "notification deliveries kept, by status", labels=["status"]
        )
        for status, n in sorted(self.store.rollups.delivery_counts().items()):
            deliveries.add_metric([status], float(n))
        yield deliveries
        recorded = CounterMetricFamily("kubekuma_checks_recorded", "checks recorded by every worker together")
        recorded.add_metric([], float(self.store.rollups.checks_recorded()))
        yield recorded


class PipelineCollector(Collector):
    def __init__(self, sources: PipelineSources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        if self.sources.queue_depths is not None:
            depth = GaugeMetricFamily(
                "kubekuma_queue_depth", "messages waiting in the broker", labels=["queue"]
            )
            for queue, n in sorted(self.sources.queue_depths().items()):
                depth.add_metric([queue], float(n))
            yield depth
        sched = self.sources.scheduler() if self.sources.scheduler is not None else None
        if sched is None:
            return
        stats = sched.stats
        enq = CounterMetricFamily("kubekuma_checks_enqueued", "checks the scheduler enqueued")
        enq.add_metric([], float(stats.enqueued))
        skipped = CounterMetricFamily(
            "kubekuma_checks_skipped_inflight",
            "ticks skipped because the previous check was still queued or running",
        )
        skipped.add_metric([], float(stats.skipped_inflight))
        jobs = GaugeMetricFamily("kubekuma_scheduler_jobs", "monitor jobs the scheduler holds")
        jobs.add_metric([], float(sched.job_count()))
        leading = GaugeMetricFamily("kubekuma_scheduler_leading", "1 while this scheduler holds the lease")
        leading.add_metric([], 1.0 if sched.leading else 0.0)
        bounds = [*(f"{b:g}" for b in stats.bounds), "+Inf"]
        counts = [*itertools.accumulate(stats.bucket_counts), stats.count]
        drift = HistogramMetricFamily(
            "kubekuma_scheduler_drift_seconds",
            "enqueue time minus planned time of each tick",
            buckets=[(b, float(n)) for b, n in zip(bounds, counts, strict=True)],
            sum_value=stats.total,
        )
        yield from (enq, skipped, jobs, leading, drift)


class HttpPhaseCollector(Collector):
    """Where the HTTP checks of this process spent their time (app.checkers.timing), by phase."""

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(
            "kubekuma_http_phase_seconds",
            "HTTP check time by phase: dns, connect and tls of new connections, firstByte, total",
            labels=["phase"],
        )
        bounds = [*(f"{b:g}" for b in timing.BUCKETS), "+Inf"]
        for phase, (buckets, count, total) in timing.HTTP_PHASES.snapshot().items():
            counts = [*itertools.accumulate(buckets), count]
            family.add_metric([phase], list(zip(bounds, map(float, counts), strict=True)), total)
        yield family


def planned_times(message: Any) -> list[float]:
    """The planned unix times of the checks a message carries: one for `check_monitor`, one per item
    of a `check_batch` (items are [uid, generation, planned, token]); none for other actors."""
    args = message.args
    if message.actor_name == "check_monitor":
        return [float(args[2])] if len(args) >= 3 and args[2] else []
    if message.actor_name == "check_batch" and args:
        return [float(i[2]) for i in args[0] if len(i) >= 3 and i[2]]
    return []


def checks_in(message: Any) -> int:
    """How many checks a message carries (0 for actors that run none)."""
    if message.actor_name == "check_monitor":
        return 1
    if message.actor_name == "check_batch" and message.args:
        return len(message.args[0])
    return 0


class WorkerMetrics(dramatiq.Middleware):
    """Counts checks where they run: run, failed (the actor raised or hit its time limit), late.

    A `check_batch` message counts as the checks it carries. A monitor being DOWN is not a
    pipeline failure: that is `kubekuma_monitor_state`.
    """

    def __init__(self, registry: CollectorRegistry, late_after_s: float = LATE_AFTER_S) -> None:
        self.late_after_s = late_after_s
        registry.register(HttpPhaseCollector())
        self.run = Counter(
            "kubekuma_checks_run", "checks this process ran to the end (a batch counts its checks)",
            registry=registry,
        )  # fmt: skip
        self.failed = Counter(
            "kubekuma_checks_failed",
            "checks whose message raised, hit its time limit or expired in the queue",
            registry=registry,
        )
        self.late = Counter(
            "kubekuma_checks_late",
            f"checks that started over {late_after_s:g}s after planned",
            registry=registry,
        )
        self.delay = Histogram(
            "kubekuma_check_start_delay_seconds",
            "check start time minus its planned time",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=registry,
        )

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        now = time.time()
        for planned in planned_times(message):
            delay = max(0.0, now - planned)
            self.delay.observe(delay)
            if delay > self.late_after_s:
                self.late.inc()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        n = checks_in(message)
        if n:
            (self.failed if exception is not None else self.run).inc(n)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        n = checks_in(message)  # too old to run (max_age): its checks were lost
        if n:
            self.failed.inc(n)


class MetricsEndpoint:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = generate_latest(self.registry)
        resp.cache_control = ["no-store"]
