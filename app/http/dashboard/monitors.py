"""The monitor list (`/monitors`): search, filter, sort and a 24 h status strip per row.

Everything is a GET parameter, so a filtered list is a URL to share and works without
script: `q` (in namespace, name, description and target), `namespace`, `label` (a
Kubernetes label selector, `team=payments,tier!=low`), `type`, `state`, `sort` (name,
state, latency, uptime; `-` first for descending) and `page`. Strips are read for the
shown page only, in one query; sorting by uptime reads the 24 h sums of every matching
monitor, also in one query, at most every 30 s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import falcon

from app.config import redact
from app.http.dashboard import Deps, render
from app.http.dashboard.charts import strip
from app.http.dashboard.openapi import page, query
from app.http.dashboard.rows import ORDER, STATES, Row, all_rows
from app.http.errors import bad_request, int_param
from app.http.selectors import SelectorError, parse_selector
from app.resources.monitor import MonitorType
from app.store import Store
from app.store.rollups import Counts
from app.uptime import Span, Totals
from app.uptime.windows import HOUR, floor

PER_PAGE = 50
UPTIME_TTL = 30.0  # seconds a list sorted by 24 h uptime may use the sums of a moment ago
SORTS = ("name", "state", "latency", "uptime")
MAX_TEXT = 200


@dataclass(frozen=True, slots=True)
class Query:
    q: str = ""
    namespace: str = ""
    label: str = ""
    type: str = ""
    state: str = ""
    sort: str = "state"
    page: int = 1

    def url(self, **change: Any) -> str:
        """This list's URL with some parameters changed (defaults left out)."""
        values = {**self.params(), **{k: str(v) for k, v in change.items()}}
        kept = {k: v for k, v in values.items() if v and not (k == "page" and v == "1")
                and not (k == "sort" and v == "state")}  # fmt: skip
        return "/monitors" + ("?" + urlencode(kept) if kept else "")

    def params(self) -> dict[str, str]:
        return {"q": self.q, "namespace": self.namespace, "label": self.label, "type": self.type,
                "state": self.state, "sort": self.sort, "page": str(self.page)}  # fmt: skip


def _text(req: falcon.Request, name: str) -> str:
    raw = (req.get_param(name) or "").strip()
    if len(raw) > MAX_TEXT or any(ord(c) < 32 for c in raw):
        raise bad_request(name, f"at most {MAX_TEXT} characters, no control characters")
    return raw


def parse_query(req: falcon.Request) -> Query:
    state = _text(req, "state").upper()
    if state and state not in STATES:
        raise bad_request("state", f"must be one of {', '.join(s.lower() for s in STATES)}")
    type_ = _text(req, "type")
    if type_ and type_ not in {t.value for t in MonitorType}:
        raise bad_request("type", f"must be one of {', '.join(t.value for t in MonitorType)}")
    sort = _text(req, "sort") or "state"
    if sort.lstrip("-") not in SORTS:
        raise bad_request("sort", f"must be one of {', '.join(SORTS)} (prefix - for descending)")
    page = int_param(req, "page", 1, 1, 100_000) or 1
    return Query(_text(req, "q"), _text(req, "namespace"), _text(req, "label"), type_, state, sort, page)


def matches(r: Row, q: Query, selected: Any) -> bool:
    m = r.m
    if q.namespace and m.namespace != q.namespace:
        return False
    if q.type and m.spec.type.value != q.type:
        return False
    if q.state and r.state != q.state:
        return False
    if q.q:
        needle = q.q.lower()
        # the target as pages show it: a credential in it must not be found by guessing
        hay = f"{m.namespace}/{m.name} {m.spec.description or ''} {redact(m.spec.target())}".lower()
        if needle not in hay:
            return False
    return bool(selected(m.labels))


def sort_rows(rows: list[Row], sort: str, uptime: dict[str, float | None]) -> list[Row]:
    """Name order breaks every tie; rows without a value (no latency, no checks) go last either way."""
    by_name = sorted(rows, key=lambda r: (r.m.namespace, r.m.name))
    field, desc = sort.lstrip("-"), sort.startswith("-")
    if field == "name":
        return by_name[::-1] if desc else by_name
    if field == "state":
        return sorted(by_name, key=lambda r: ORDER[r.state], reverse=desc)
    value = {r.m.uid: r.latency_ms for r in rows} if field == "latency" else uptime
    known = [r for r in by_name if value.get(r.m.uid) is not None]
    unknown = [r for r in by_name if value.get(r.m.uid) is None]
    known.sort(key=lambda r: value[r.m.uid] or 0.0, reverse=desc)
    return known + unknown


Cells = list[Counts | None]


def day_strips(store: Store, uids: list[str], now: datetime) -> tuple[list[str], dict[str, Cells]]:
    """24 hour buckets per monitor, the current hour last, from one read of the hour rollups."""
    end = floor(now, "h") + HOUR
    hours = [end - HOUR * (24 - i) for i in range(24)]
    buckets = store.series.buckets(uids, "h", hours[0], end)
    cells = {uid: [buckets.get(uid, {}).get(t) for t in hours] for uid in uids}
    return [t.strftime("%H:%M") for t in hours], cells


def uptimes(store: Store, uids: list[str], now: datetime) -> dict[str, float | None]:
    """24 h uptime of every monitor in `uids`, summed in the database (hour buckets)."""
    end = floor(now, "h") + HOUR
    sums = store.rollups.windows(uids, {"24h": [Span("h", end - timedelta(hours=24), end)]})["24h"]
    return {uid: Totals(*sums[uid]).ratio if uid in sums else None for uid in uids}


def _ratio(cells: list[Counts | None]) -> float | None:
    up, down = sum(c.up for c in cells if c), sum(c.down for c in cells if c)
    return up / (up + down) if up + down else None


class MonitorsPage:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._uptime: tuple[float, dict[str, float | None]] = (-UPTIME_TTL, {})

    def uptime_all(self, now: datetime) -> dict[str, float | None]:
        """24 h uptime of every monitor, summed at most every UPTIME_TTL seconds (it moves slowly)."""
        at, value = self._uptime
        mono = time.monotonic()
        if mono - at >= UPTIME_TTL:
            value = uptimes(self.deps.store, [m.uid for m in self.deps.catalog.monitors()], now)
            self._uptime = (mono, value)
        return value

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        q = parse_query(req)
        error = ""
        try:
            selected = parse_selector(q.label)
        except SelectorError as exc:
            error, selected = f"label: {exc}", (lambda labels: False)
            resp.status = falcon.HTTP_400
        now = self.deps.clock()
        store = self.deps.store
        monitors = self.deps.catalog.monitors()
        rows = [r for r in all_rows(store, monitors) if matches(r, q, selected)]
        by_uptime = q.sort.lstrip("-") == "uptime"
        uptime = self.uptime_all(now) if by_uptime else {}
        rows = sort_rows(rows, q.sort, uptime)
        pages = max((len(rows) + PER_PAGE - 1) // PER_PAGE, 1)
        shown = rows[(q.page - 1) * PER_PAGE : q.page * PER_PAGE]
        labels, strips = day_strips(store, [r.m.uid for r in shown], now)
        items = []
        for r in shown:
            cells = strips[r.m.uid]
            ratio = uptime.get(r.m.uid) if by_uptime else _ratio(cells)
            label = f"{r.m.key}: status per hour over the last 24 hours"
            items.append({"row": r, "uptime": ratio, "strip": strip(cells, labels, label)})
        render(req, resp, "dashboard/monitors.html", active="monitors", q=q, items=items, total=len(rows),
               all_count=len(monitors), pages=pages, error=error, states=STATES, sorts=SORTS,
               types=sorted(t.value for t in MonitorType),
               namespaces=sorted({m.namespace for m in monitors}))  # fmt: skip


OPENAPI = {
    "/monitors": {"get": page("the monitor list: filter, sort, 24 h strips (HTML)", [
        query("q", "text in name, description or target", {"type": "string", "maxLength": MAX_TEXT}),
        query("namespace", "one namespace", {"type": "string", "maxLength": MAX_TEXT}),
        query("label", "a label selector, as kubectl -l", {"type": "string", "maxLength": MAX_TEXT}),
        query("type", "a monitor type", {"type": "string", "enum": sorted(t.value for t in MonitorType)}),
        query("state", "a state", {"type": "string", "enum": [s.lower() for s in STATES]}),
        query("sort", "name, state, latency or uptime; - first for descending",
              {"type": "string", "enum": [*SORTS, *(f"-{s}" for s in SORTS)]}),
        query("page", "the page, from 1", {"type": "integer", "minimum": 1, "maximum": 100_000}),
    ], bad_request=True, html_400=True)},
}  # fmt: skip


def register(app: falcon.App, deps: Deps) -> None:
    app.add_route("/monitors", MonitorsPage(deps))
