"""Incidents (`/incidents`): open ones first, then the closed ones, newest first; acknowledge.

`state` (open, closed, all) and `monitor` (namespace/name) filter; closed incidents page
with `before` (the id of the last one shown), so a long history costs one indexed read
per page. Acknowledging posts to the API (`POST /api/v1/incidents/{id}/ack`); the button
is there only for people who may change things.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import falcon

from app.catalog import MonitorEntry
from app.http.dashboard import Deps, render
from app.http.dashboard.alertview import BEFORE, KEY, choice, split_key, text_param
from app.http.dashboard.openapi import page, query
from app.http.dashboard.rows import monitor_href
from app.http.errors import bad_request, int_param
from app.store import IncidentView

PER_PAGE = 50
STATES = ("open", "closed", "all")


def item(i: IncidentView, m: MonitorEntry | None) -> dict[str, Any]:
    return {
        "id": i.id,
        "monitor": m.key if m else f"(deleted monitor {i.monitor_uid[:12]})",
        "href": monitor_href(m.namespace, m.name) if m else None,
        "open": i.closed_at is None,
        "opened_at": i.opened_at,
        "closed_at": i.closed_at,
        "duration": i.duration_s,
        "reason": i.last_reason or i.first_reason,
        "failure": i.failure,
        "close_reason": i.close_reason,
        "acked_by": i.acked_by,
        "acked_at": i.acked_at,
    }


class IncidentsPage:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        state = text_param(req, "state", STATES) or "all"
        monitor = text_param(req, "monitor")
        before = int_param(req, "before", None, 1, 2**62)
        monitors = self.deps.catalog.monitors()
        by_uid = {m.uid: m for m in monitors}
        uids: list[str] | None = None
        if monitor:
            key = split_key(monitor)
            if key is None:
                raise bad_request("monitor", "namespace/name")
            uids = [m.uid for m in monitors if (m.namespace, m.name) == key]
        deliveries = self.deps.store.deliveries
        open_ = [] if state == "closed" or before else deliveries.incidents(uids, open_only=True, limit=500)
        closed = [] if state == "open" else deliveries.incidents(uids, open_only=False, limit=PER_PAGE,
                                                                 before=before)  # fmt: skip
        more = len(closed) == PER_PAGE
        params = {k: v for k, v in (("state", state if state != "all" else ""), ("monitor", monitor)) if v}
        next_url = "/incidents?" + urlencode({**params, "before": closed[-1].id}) if more else ""
        render(req, resp, "dashboard/incidents.html", active="incidents", state=state, states=STATES,
               monitor=monitor, open=[item(i, by_uid.get(i.monitor_uid)) for i in open_],
               closed=[item(i, by_uid.get(i.monitor_uid)) for i in closed], next_url=next_url,
               paged=before is not None)  # fmt: skip


OPENAPI = {
    "/incidents": {"get": page("incidents, open first; acknowledge (HTML)", [
        query("state", "open, closed or all", choice(*STATES)), query("monitor", "namespace/name", KEY),
        query("before", "the id of the last incident shown", BEFORE)], bad_request=True)},
}  # fmt: skip


def register(app: falcon.App, deps: Deps) -> None:
    app.add_route("/incidents", IncidentsPage(deps))
