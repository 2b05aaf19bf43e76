"""/api/v1/monitors: what is checked and how it is doing."""

from __future__ import annotations

from typing import Any

import falcon

from app.catalog import Catalog, MonitorEntry
from app.http.errors import int_param
from app.store import StateView, Store
from app.store.timeutil import iso


def monitor_json(m: MonitorEntry, st: StateView | None) -> dict[str, Any]:
    return {
        "uid": m.uid,
        "namespace": m.namespace,
        "name": m.name,
        "type": m.spec.type.value,
        "target": m.spec.target(),
        "enabled": m.spec.enabled,
        "interval": m.spec.interval,
        "state": st.state if st else "PENDING" if m.spec.enabled else None,
        "since": iso(st.since) if st else None,
        "lastCheckTime": iso(st.last_check_at) if st else None,
        "latencyMs": st.latency_ms if st else None,
        "reason": st.reason if st else "",
        "failure": st.failure if st else None,
        "labels": m.labels,
        "conditions": m.status.get("conditions", []),
    }


class MonitorList:
    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store, self.catalog = store, catalog

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ns = req.get_param("namespace")
        state = req.get_param("state")
        type_ = req.get_param("type")
        monitors = [m for m in self.catalog.monitors() if ns is None or m.namespace == ns]
        if type_:
            monitors = [m for m in monitors if m.spec.type.value == type_]
        states = self.store.checks.states()
        items = [monitor_json(m, states.get(m.uid)) for m in sorted(monitors, key=lambda m: (m.namespace, m.name))]
        if state:
            items = [i for i in items if i["state"] == state.upper()]
        resp.media = {"items": items, "count": len(items)}


class MonitorDetail:
    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store, self.catalog = store, catalog

    def find(self, namespace: str, name: str) -> MonitorEntry:
        m = self.catalog.by_name(namespace, name)
        if m is None:
            raise falcon.HTTPNotFound(title="Not found", description=f"no monitor {namespace}/{name}")
        return m

    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        m = self.find(namespace, name)
        out = monitor_json(m, self.store.checks.states([m.uid]).get(m.uid))
        out["spec"] = m.spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        out["heartbeats"] = [h.to_json() for h in self.store.checks.heartbeats(m.uid, 20)]
        inc = self.store.incidents.open_for(m.uid)
        out["openIncident"] = inc.to_json() if inc else None
        resp.media = out


class MonitorHeartbeats(MonitorDetail):
    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        m = self.find(namespace, name)
        limit = int_param(req, "limit", 50, 1, 1000) or 50
        before = int_param(req, "before", None, 1, 2**62)
        rows = self.store.checks.heartbeats(m.uid, limit, before)
        next_before = rows[-1].id if len(rows) == limit else None
        resp.media = {"items": [h.to_json() for h in rows], "next": next_before}
