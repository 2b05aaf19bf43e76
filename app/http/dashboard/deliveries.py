"""Deliveries (`/deliveries`): every message to every provider, sent or not, and why.

A suppressed delivery says what muted it (a silence, maintenance, flapping...), a failed
one its last error (already stripped of secrets by the sender), a pending one when it is
tried next. Filters: `status`, `monitor` and `provider` (namespace/name), `event`; pages
with `before` (the id of the last row shown), newest first.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import falcon

from app.http.dashboard import Deps, render
from app.http.dashboard.alertview import BEFORE, KEY, alert_config, choice, split_key, text_param
from app.http.dashboard.openapi import page, query
from app.http.dashboard.rows import monitor_href
from app.http.errors import bad_request, int_param
from app.model import DeliveryStatus
from app.store import DeliveryView

PER_PAGE = 50
STATUSES = tuple(s.value for s in DeliveryStatus)
EVENTS = ("down", "up", "reminder", "flapping", "certificateExpiring")


def why(d: DeliveryView) -> str:
    """The one line that explains the row: the reason it was muted, its error, or its next try."""
    if d.status in (DeliveryStatus.SUPPRESSED, DeliveryStatus.SUPERSEDED):
        return d.last_error or d.status
    if d.status == DeliveryStatus.FAILED:
        return d.last_error or "failed"
    if d.status == DeliveryStatus.PENDING and d.last_error:
        return f"retrying: {d.last_error}"
    return ""


class DeliveriesPage:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.config = alert_config(deps.store)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        status = text_param(req, "status", STATUSES)
        event = text_param(req, "event", EVENTS)
        monitor, provider = text_param(req, "monitor"), text_param(req, "provider")
        before = int_param(req, "before", None, 1, 2**62)
        monitors = self.deps.catalog.monitors()
        by_uid = {m.uid: m for m in monitors}
        cfg = self.config.get()
        monitor_uids = provider_uids = None
        if monitor:
            if (key := split_key(monitor)) is None:
                raise bad_request("monitor", "namespace/name")
            monitor_uids = [m.uid for m in monitors if (m.namespace, m.name) == key]
        if provider:
            if (key := split_key(provider)) is None:
                raise bad_request("provider", "namespace/name")
            found = cfg.providers.get(key)
            provider_uids = [found.uid] if found else []
        rows = self.deps.store.deliveries.list(monitor_uids, provider_uids, status or None, event or None,
                                               limit=PER_PAGE, before=before)  # fmt: skip
        items: list[dict[str, Any]] = []
        for d in rows:
            m = by_uid.get(d.monitor_uid or "")
            p = cfg.provider(d.provider_uid)
            items.append({
                "d": d, "why": why(d),
                "monitor": m.key if m else ("test" if d.monitor_uid == "test" else "(deleted monitor)"),
                "monitor_href": monitor_href(m.namespace, m.name) if m else None,
                "provider": p.key if p else d.provider_uid.removeprefix("missing:NotificationProvider/"),
            })  # fmt: skip
        params = {"status": status, "event": event, "monitor": monitor, "provider": provider}
        params = {k: v for k, v in params.items() if v}
        next_url = (
            "/deliveries?" + urlencode({**params, "before": rows[-1].id}) if len(rows) == PER_PAGE else ""
        )
        render(req, resp, "dashboard/deliveries.html", active="deliveries", items=items, statuses=STATUSES,
               events=EVENTS, f=params, next_url=next_url,
               providers=sorted(p.key for p in cfg.providers.values()))  # fmt: skip


OPENAPI = {
    "/deliveries": {"get": page("deliveries: sent, pending, failed and muted, with why (HTML)", [
        query("status", "a delivery status", choice(*STATUSES)), query("event", "an event", choice(*EVENTS)),
        query("monitor", "namespace/name", KEY), query("provider", "namespace/name", KEY),
        query("before", "the id of the last delivery shown", BEFORE)], bad_request=True)},
}  # fmt: skip


def register(app: falcon.App, deps: Deps) -> None:
    app.add_route("/deliveries", DeliveriesPage(deps))
