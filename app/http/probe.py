"""`GET /probe?monitor=ns/name`: one monitor's last check in the blackbox exporter's format.

A Prometheus already set up for the blackbox exporter scrapes this the same way (a
`target` parameter is taken too, so existing relabelling works), and gets `probe_success`
and `probe_duration_seconds` for checks KubeKuma runs on its own schedule. The endpoint
reads the last recorded check: it never runs a check itself, so scraping cannot be used
to make KubeKuma connect anywhere, and costs one indexed read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import falcon
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.catalog import Catalog, MonitorEntry
from app.http.errors import bad_request
from app.model import State
from app.store import StateView, Store


def probe_metrics(m: MonitorEntry, st: StateView | None) -> list[Metric]:
    """The families of one probe answer; pure, for the endpoint and its tests."""
    state = st.state if st else State.PENDING.value

    def gauge(name: str, doc: str, value: float, labels: dict[str, str] | None = None) -> GaugeMetricFamily:
        g = GaugeMetricFamily(name, doc, labels=list(labels or {}))
        g.add_metric(list((labels or {}).values()), value)
        return g

    success = 1.0 if state == State.UP else 0.0
    latency = (st.latency_ms or 0.0) / 1000.0 if st else 0.0
    out: list[Metric] = [
        gauge("probe_success", "1 when the monitor's last check left it UP", success),
        gauge("probe_duration_seconds", "latency of the last check", latency),
    ]
    info = GaugeMetricFamily(
        "probe_kubekuma_monitor_info", "the probed monitor", labels=["namespace", "name", "type", "state"]
    )
    info.add_metric([m.namespace, m.name, m.spec.type.value, state], 1.0)
    out.append(info)
    if st and st.last_check_at:
        when = st.last_check_at.timestamp()
        out.append(gauge("probe_kubekuma_last_check_timestamp_seconds", "when the last check ran", when))
    if st and st.failure:
        doc = "1 for the failure class of the last check"
        out.append(gauge("probe_kubekuma_failure", doc, 1.0, {"class": st.failure}))
    cert: Any = (st.details or {}).get("cert") if st else None
    if isinstance(cert, dict) and cert.get("expiresAt"):
        try:
            expires = datetime.fromisoformat(str(cert["expiresAt"]).replace("Z", "+00:00"))
        except ValueError:
            return out
        doc = "expiry of the certificate the last check saw (unix time)"
        out.append(gauge("probe_ssl_earliest_cert_expiry", doc, expires.timestamp()))
    return out


class _Fixed(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> list[Metric]:  # type: ignore[override]
        return self.metrics


class Probe:
    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store, self.catalog = store, catalog

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ref = req.get_param("monitor") or req.get_param("target")
        if not ref:
            raise bad_request("monitor", "give monitor=namespace/name (or target=namespace/name)")
        namespace, sep, name = ref.partition("/")
        if not sep or not namespace or not name:
            raise bad_request("monitor", f"{ref!r} is not namespace/name")
        entry = self.catalog.by_name(namespace, name)
        if entry is None:
            raise falcon.HTTPNotFound(title="no such monitor", description=f"no monitor {ref}")
        st = self.store.checks.states([entry.uid]).get(entry.uid)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Fixed(probe_metrics(entry, st)))
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = generate_latest(registry)
        resp.cache_control = ["no-store"]
