"""One monitor's page (`/monitors/{namespace}/{name}`): how it is, how it was, and what it is.

State and since when; status history and latency over 1 h, 24 h, 7 d or 30 d (`?range=`,
SVG drawn here from rollups); uptime over 24 h/7 d/30 d/90 d; the last checks with their
reasons and details (HTTP timing, the certificate); its incidents and deliveries; its
conditions; the resource as YAML (literal credentials masked, Secrets only as references);
for push monitors the push URL and a `curl` — to editors and admins only, as the push
token is a credential (docs/access.md: private parts are never shown to viewers); and
pause/resume for those who may change things.
"""

from __future__ import annotations

from typing import Any

import falcon
import yaml

from app.catalog import MonitorEntry
from app.http.access.middleware import sees_private
from app.http.dashboard import Deps, render
from app.http.dashboard.charts import RANGES, history_bar, latency_chart, points, span_of
from app.http.dashboard.fmt import since
from app.http.dashboard.openapi import page, path, query
from app.http.dashboard.rows import monitor_href, row
from app.http.errors import bad_request
from app.http.reads import certificate, uptime_windows
from app.resources.common import FULL_API_VERSION
from app.resources.credentials import redact_value
from app.resources.monitor import MonitorType
from app.uptime import WINDOWS
from app.uptime.windows import STEP

RECENT = 20


def resource_yaml(m: MonitorEntry, spec: dict[str, Any] | None) -> str:
    """The Monitor as a manifest: metadata and spec only, literal credentials masked."""
    meta: dict[str, Any] = {"name": m.name, "namespace": m.namespace}
    if m.labels:
        meta["labels"] = dict(m.labels)
    doc = {"apiVersion": FULL_API_VERSION, "kind": "Monitor", "metadata": meta,
           "spec": redact_value(spec or {})}  # fmt: skip
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def check_summary(details: dict[str, Any]) -> str:
    """HTTP status and timing phases of one check in a line: 'HTTP 200 · dns 1 ms · connect 2 ms'."""
    parts = []
    if "statusCode" in details:
        parts.append(f"HTTP {details['statusCode']}")
    timing = details.get("timing")
    if isinstance(timing, dict):
        for k, v in timing.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                parts.append(f"{k.removesuffix('Ms')} {v:.0f} ms")
    cert = details.get("cert")
    if isinstance(cert, dict) and cert.get("expiresAt"):
        parts.append(f"certificate until {str(cert['expiresAt'])[:10]}")
    return " · ".join(parts)


def push_url(req: falcon.Request, token: str) -> str:
    directory = getattr(req.context, "directory", None)
    base = (directory.settings.publicUrl if directory is not None else None) or req.prefix
    return f"{base.rstrip('/')}/api/push/{token}"


class MonitorPage:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        m = self.deps.catalog.by_name(namespace, name)
        if m is None:
            what = f"no monitor {namespace[:100]}/{name[:100]}"
            raise falcon.HTTPNotFound(title="Not found", description=what)
        range_name = req.get_param("range") or "24h"
        rng = RANGES.get(range_name)
        if rng is None:
            raise bad_request("range", f"must be one of {', '.join(RANGES)}")
        store, now = self.deps.store, self.deps.clock()
        st = store.rollups.states([m.uid]).get(m.uid)
        current = row(m, st)
        start, end = span_of(rng, now)
        step = STEP[rng.resolution]
        buckets = store.series.buckets([m.uid], rng.resolution, start, end).get(m.uid, {})
        pts = points(buckets, start, end, step, rng.group)
        long = rng.length > RANGES["24h"].length
        per_window = uptime_windows(store, [m.uid], WINDOWS, now)
        rec = store.resources.get_uid(m.uid)
        deliveries = store.deliveries.list(monitor_uids=[m.uid], limit=RECENT)
        providers = {}
        for uid in {d.provider_uid for d in deliveries}:
            p = store.resources.get_uid(uid)
            providers[uid] = f"{p.namespace}/{p.name}" if p else "(deleted provider)"
        token = m.status.get("pushToken") if m.spec.type == MonitorType.PUSH else None
        heartbeats = store.checks.heartbeats(m.uid, RECENT)
        render(
            req, resp, "dashboard/monitor.html", active="monitors",
            m=m, r=current, href=monitor_href(m.namespace, m.name), since=since(current.since, now),
            ranges=list(RANGES), range=rng.name, points=pts,
            history=history_bar(pts, f"Status of {m.key} over {rng.name}", long),
            chart=latency_chart(pts, f"Mean latency of {m.key} over {rng.name}", long), long=long,
            uptime={w: per_window[w][m.uid] for w in WINDOWS},
            heartbeats=[(h, check_summary(h.details or {}), redact_value(h.details or {}))
                        for h in heartbeats],
            cert=certificate(st.details if st else None, now),
            incidents=store.incidents.list(monitor_uid=m.uid, limit=RECENT),
            deliveries=deliveries, providers=providers,
            conditions=m.status.get("conditions", []),
            manifest=resource_yaml(m, rec.spec if rec else None),
            is_push=m.spec.type == MonitorType.PUSH,
            push=push_url(req, token) if token and sees_private(req) else None,
            to_yaml=lambda v: yaml.safe_dump(v, sort_keys=False, allow_unicode=True, width=100),
        )  # fmt: skip


OPENAPI = {
    "/monitors/{namespace}/{name}": {"get": page(
        "one monitor: state, history charts, uptime, checks, incidents, deliveries, conditions, YAML (HTML)",
        [path("namespace", "monitor namespace"), path("name", "monitor name"),
         query("range", "the charts' range", {"type": "string", "enum": list(RANGES), "default": "24h"})],
        bad_request=True, not_found=True)},
}  # fmt: skip


def register(app: falcon.App, deps: Deps) -> None:
    app.add_route("/monitors/{namespace}/{name}", MonitorPage(deps))
