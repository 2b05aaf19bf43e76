"""/api/v1/monitors and /api/v1/uptime: what is checked, how it is doing, and how it did.

Lists filter by namespace, Kubernetes label selector, state and type. The detail adds
recent heartbeats, uptime over 24h/7d/30d/90d (from rollups, one query), the open
incident and the certificate the last check saw. Heartbeats page by id cursor and by time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import falcon

from app.catalog import Catalog, MonitorEntry
from app.http.errors import bad_request, int_param
from app.http.reads import certificate, uptime_json, uptime_windows
from app.http.selectors import SelectorError, parse_selector
from app.model import State, utc_now
from app.resources.credentials import redact, redact_value
from app.resources.monitor import MonitorType
from app.store import StateView, Store
from app.store.timeutil import iso
from app.uptime import WINDOWS, parse_window
from app.uptime.windows import effective_start

Clock = Callable[[], datetime]


def monitor_json(m: MonitorEntry, st: StateView | None) -> dict[str, Any]:
    return {
        "uid": m.uid,
        "namespace": m.namespace,
        "name": m.name,
        "type": m.spec.type.value,
        "target": redact(m.spec.target()),
        "enabled": m.spec.enabled,
        "interval": m.spec.interval,
        "description": m.spec.description,
        "state": st.state if st else "PENDING" if m.spec.enabled else None,
        "since": iso(st.since) if st else None,
        "lastCheckTime": iso(st.last_check_at) if st else None,
        "latencyMs": st.latency_ms if st else None,
        "reason": st.reason if st else "",
        "failure": st.failure if st else None,
        "labels": m.labels,
        "conditions": m.status.get("conditions", []),
    }


_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
# Times outside this span mean "no bound"; clamping keeps the database and timedelta arithmetic in range.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def time_param(req: falcon.Request, name: str) -> datetime | None:
    """An RFC 3339 time (no zone means UTC), in UTC and clamped to [EARLIEST, LATEST]."""
    raw = req.get_param(name)
    if raw is None:
        return None
    text = raw.replace(" ", "+", 1) if raw.count(" ") == 1 and "T" in raw else raw  # a "+" sent unencoded
    problem = f"must be an RFC 3339 time such as 2024-05-01T12:00:00Z, got {raw[:60]!r}"
    if not _RFC3339.fullmatch(text):
        raise bad_request(name, problem)
    try:
        t = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(name, problem) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    try:
        t = t.astimezone(UTC)
    except OverflowError:
        return EARLIEST if t.year < 2000 else LATEST
    return min(max(t, EARLIEST), LATEST)


def _choice(req: falcon.Request, name: str, allowed: list[str], upper: bool = False) -> str | None:
    """One of `allowed`, as written or (for `upper`) all in lower case: `state=down` reads well in a URL."""
    raw = req.get_param(name)
    if raw is None:
        return None
    if raw in allowed or (upper and raw.islower() and raw.upper() in allowed):
        return raw.upper() if upper else raw
    raise bad_request(name, f"must be one of {', '.join(allowed)}, got {raw[:60]!r}")


class MonitorList:
    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store, self.catalog = store, catalog

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        ns = req.get_param("namespace")
        state = _choice(req, "state", [s.value for s in State], upper=True)
        type_ = _choice(req, "type", [t.value for t in MonitorType])
        try:
            selected = parse_selector(req.get_param("selector") or "")
        except SelectorError as exc:
            raise bad_request("selector", str(exc)) from None
        monitors = [
            m
            for m in self.catalog.monitors()
            if (ns is None or m.namespace == ns)
            and (type_ is None or m.spec.type.value == type_)
            and selected(m.labels)
        ]
        states = self.store.checks.states()
        items = [
            monitor_json(m, states.get(m.uid)) for m in sorted(monitors, key=lambda m: (m.namespace, m.name))
        ]
        if state:
            items = [i for i in items if i["state"] == state]
        resp.media = {"items": items, "count": len(items)}


class MonitorDetail:
    def __init__(self, store: Store, catalog: Catalog, clock: Clock = utc_now) -> None:
        self.store, self.catalog, self.clock = store, catalog, clock

    def find(self, namespace: str, name: str) -> MonitorEntry:
        m = self.catalog.by_name(namespace, name)
        if m is None:
            raise falcon.HTTPNotFound(title="Not found", description=f"no monitor {namespace}/{name}")
        return m

    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        m = self.find(namespace, name)
        now = self.clock()
        st = self.store.rollups.states([m.uid]).get(m.uid)
        out = monitor_json(m, st)
        out["spec"] = redact_value(m.spec.model_dump(mode="json", by_alias=True, exclude_none=True))
        out["heartbeats"] = [h.to_json() for h in self.store.checks.heartbeats(m.uid, 20)]
        per_window = uptime_windows(self.store, [m.uid], WINDOWS, now)
        out["uptime"] = {w: uptime_json(per_window[w][m.uid]) for w in WINDOWS}
        inc = self.store.incidents.open_for(m.uid)
        out["openIncident"] = inc.to_json() if inc else None
        out["certificate"] = certificate(st.details if st else None, now)
        resp.media = out


class MonitorHeartbeats(MonitorDetail):
    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        m = self.find(namespace, name)
        limit = int_param(req, "limit", 50, 1, 1000) or 50
        before = int_param(req, "before", None, 1, 2**62)
        since, until = time_param(req, "since"), time_param(req, "until")
        # An empty span (until at or before since) is a valid question with no heartbeats in it.
        empty = since is not None and until is not None and since >= until
        rows = [] if empty else self.store.heartbeat_pages.page(m.uid, limit, before, since, until)
        next_before = rows[-1].id if len(rows) == limit else None
        resp.media = {"items": [h.to_json() for h in rows], "next": next_before}


class MonitorUptime(MonitorDetail):
    """GET /api/v1/uptime/{namespace}/{name}?window=24h — from rollups only."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, namespace: str, name: str) -> None:
        m = self.find(namespace, name)
        window = req.get_param("window", default="24h")
        try:
            length = parse_window(window)
        except ValueError as exc:
            raise bad_request("window", str(exc)) from None
        now = self.clock()
        totals = uptime_windows(self.store, [m.uid], {window: length}, now)[window][m.uid]
        resp.media = {
            "namespace": m.namespace,
            "name": m.name,
            "window": window,
            "since": iso(effective_start(now - length, now)),
            "until": iso(now),
            **uptime_json(totals),
        }
