"""/api/v1/incidents, /api/v1/transitions and /api/v1/deliveries: what went wrong, how the alert
path handled it, and who was told (or why not).

Both list newest first and page by id (`before` = the `next` of the previous page). Filters
name monitors and providers the way manifests do (namespace and name); times are RFC 3339.
A suppressed delivery carries its `reason` (silence, maintenance, flapping, dedupWindow...),
a failed one its `lastError`; neither ever holds a credential.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import falcon

from app.catalog import Catalog
from app.http.errors import bad_request, int_param
from app.http.monitors import time_param
from app.model import DeliveryStatus, TransitionStatus, utc_now
from app.store import Store

STATUSES = tuple(s.value for s in DeliveryStatus)
MISSING = "missing:NotificationProvider/"  # see ProviderView.missing
TRANSITION_STATUSES = tuple(s.value for s in TransitionStatus)
EVENTS = ("down", "up", "reminder", "flapping", "flappingEnded", "certificateExpiring")


def _monitor_uids(req: falcon.Request, catalog: Catalog) -> list[str] | None:
    """The monitors named by `namespace` and `monitor`, or None when neither is given."""
    ns, name = req.get_param("namespace"), req.get_param("monitor")
    if not ns and not name:
        return None
    return [
        m.uid for m in catalog.monitors() if (not ns or m.namespace == ns) and (not name or m.name == name)
    ]


def _monitor_ref(uid: str | None, names: dict[str, Any]) -> dict[str, Any]:
    """The monitor a row is about, by name when it still exists."""
    m = names.get(uid or "")
    return {"uid": uid, "namespace": m.namespace if m else None, "name": m.name if m else None}


def _choice(req: falcon.Request, name: str, allowed: tuple[str, ...]) -> str | None:
    raw = req.get_param(name)
    if raw is not None and raw not in allowed:
        raise bad_request(name, f"must be one of {', '.join(allowed)}, got {raw[:60]!r}")
    return raw


def _page(req: falcon.Request) -> tuple[int, int | None, datetime | None, datetime | None]:
    limit = int_param(req, "limit", 50, 1, 1000) or 50
    before = int_param(req, "before", None, 1, 2**62)
    since, until = time_param(req, "since"), time_param(req, "until")
    if since and until and until <= since:
        until = since  # an empty span: a valid question whose answer is no rows
    return limit, before, since, until


class IncidentList:
    def __init__(self, store: Store, catalog: Catalog, clock: Callable[[], datetime]) -> None:
        self.store, self.catalog, self.clock = store, catalog, clock

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        uids = _monitor_uids(req, self.catalog)
        open_raw = _choice(req, "open", ("true", "false"))
        limit, before, since, until = _page(req)
        rows = self.store.deliveries.incidents(
            uids, None if open_raw is None else open_raw == "true", since, until, limit, before
        )
        names = {m.uid: m for m in self.catalog.monitors()}
        now = self.clock()
        items = []
        for inc in rows:
            out = inc.to_json()
            out["monitor"] = _monitor_ref(inc.monitor_uid, names)
            if inc.closed_at is None:  # open: how long so far
                out["durationSeconds"] = round((now - inc.opened_at).total_seconds(), 3)
            items.append(out)
        resp.media = {"items": items, "next": rows[-1].id if len(rows) == limit else None}


class TransitionList:
    """State changes and how the alert path handled each: `failed` and `superseded` say why."""

    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store, self.catalog = store, catalog

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        uids = _monitor_uids(req, self.catalog)
        status = _choice(req, "status", TRANSITION_STATUSES)
        limit = int_param(req, "limit", 50, 1, 1000) or 50
        before = int_param(req, "before", None, 1, 2**62)
        rows = self.store.transitions.list(uids, status, limit, before)
        names = {m.uid: m for m in self.catalog.monitors()}
        items = []
        for t in rows:
            out = t.to_json()
            out["monitor"] = _monitor_ref(t.monitor_uid, names)
            items.append(out)
        resp.media = {"items": items, "next": rows[-1].id if len(rows) == limit else None}


class DeliveryList:
    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store, self.catalog = store, catalog

    def _providers(self) -> dict[str, dict[str, Any]]:
        out = {}
        for r in self.store.resources.list(kind="NotificationProvider"):
            kind = (r.spec or {}).get("type")
            out[r.uid] = {"uid": r.uid, "namespace": r.namespace, "name": r.name, "type": kind}
        # providers a policy names but that do not exist: their failed rows still say which
        for uid in self.store.deliveries.missing_providers():
            ns, _, name = uid.removeprefix(MISSING).partition("/")
            out.setdefault(uid, {"uid": uid, "namespace": ns, "name": name, "type": None})
        return out

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        uids = _monitor_uids(req, self.catalog)
        providers = self._providers()
        wanted = req.get_param("provider")
        provider_uids = None
        if wanted:
            ns, _, name = wanted.rpartition("/")
            provider_uids = [
                u for u, p in providers.items() if p["name"] == name and (not ns or p["namespace"] == ns)
            ]
        status = _choice(req, "status", STATUSES)
        event = _choice(req, "event", EVENTS)
        limit, before, since, until = _page(req)
        rows = self.store.deliveries.list(uids, provider_uids, status, event, since, until, limit, before)
        names = {m.uid: m for m in self.catalog.monitors()}
        items = []
        for d in rows:
            out = d.to_json()
            out["monitor"] = _monitor_ref(d.monitor_uid, names)
            out["provider"] = providers.get(d.provider_uid, {"uid": d.provider_uid, "namespace": None,
                                                             "name": None, "type": None})  # fmt: skip
            items.append(out)
        resp.media = {"items": items, "next": rows[-1].id if len(rows) == limit else None}


def register(
    app: falcon.App, store: Store, catalog: Catalog, clock: Callable[[], datetime] = utc_now
) -> None:
    app.add_route("/api/v1/incidents", IncidentList(store, catalog, clock))
    app.add_route("/api/v1/deliveries", DeliveryList(store, catalog))
    app.add_route("/api/v1/transitions", TransitionList(store, catalog))
