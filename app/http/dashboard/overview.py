"""The overview (`/`): counts by state, what needs attention, open incidents, maintenance, invalid objects.

`/live/overview` answers the same counts and lists as JSON for the page's script to update
in place every few seconds. It is the cheap part of the page by design: the cached catalog,
one plain read of the monitor states and one of the open incidents (by their unique key),
nothing that scans resources or rollups. Invalid resources and maintenance are rebuilt only
when the resource cache's revision moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import falcon

from app.catalog import MonitorEntry, RevisionCache
from app.config import redact
from app.http.dashboard import Deps, render
from app.http.dashboard.fmt import when
from app.http.dashboard.openapi import json, page
from app.http.dashboard.rows import STATES, Row, all_rows, counts, monitor_href, needing_attention
from app.http.statuspages import PageIndex
from app.store import ResourceRecord, Store
from app.store.series import OpenIncident
from app.store.timeutil import iso

LIST_LIMIT = 50  # rows per list on the overview; the monitor list shows the rest
UPCOMING = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    namespace: str
    name: str
    reason: str  # InvalidSpec, ReferenceNotFound, ...
    message: str


def problems_of(records: list[ResourceRecord]) -> list[Problem]:
    """Every invalid object with its Valid condition: schema problems and missing references alike."""
    out = []
    for r in records:
        if r.valid:
            continue
        cond: dict[str, Any] = next(
            (c for c in r.status.get("conditions", []) if c.get("type") == "Valid"), {}
        )
        out.append(Problem(r.kind, r.namespace, r.name, str(cond.get("reason") or "Invalid"),
                           str(cond.get("message") or "no message")))  # fmt: skip
    return sorted(out, key=lambda p: (p.kind, p.namespace, p.name))


def attention_item(r: Row) -> dict[str, Any]:
    note = redact(r.reason) + (f" · since {when(r.since)}" if r.since else "")
    return {"state": r.state, "text": r.m.key, "href": r.href, "note": note}


def incident_item(i: OpenIncident, m: MonitorEntry | None) -> dict[str, Any]:
    name = m.key if m else f"(deleted monitor {i.monitor_uid[:12]})"
    ack = f" · acknowledged by {i.acked_by}" if i.acked_by else ""
    return {"state": "DOWN", "text": name, "href": monitor_href(m.namespace, m.name) if m else None,
            "note": f"{redact(i.last_reason)} · since {when(i.opened_at)}{ack}"}  # fmt: skip


class Overview:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        store = deps.store
        empty: list[Problem] = []
        self.problems = RevisionCache(
            "dashboard problems",
            store.resources.revision,
            lambda rev, old: problems_of(store.resources.list()),
            empty,
        )
        self.index = PageIndex(store, deps.catalog)

    def live(self) -> dict[str, Any]:
        """The counts and lists that change from check to check."""
        store: Store = self.deps.store
        monitors = self.deps.catalog.monitors()
        rows = all_rows(store, monitors)
        n = counts(rows)
        attention = needing_attention(rows)
        by_uid = {m.uid: m for m in monitors}
        open_count, incidents = store.series.open_incidents(LIST_LIMIT)
        text: dict[str, Any] = {s: n[s] for s in STATES}
        text["total"] = len(rows)
        text["incidents"] = open_count
        text["attention"] = len(attention)
        return {
            "text": text,
            "lists": {
                "attention": [attention_item(r) for r in attention[:LIST_LIMIT]],
                "incidents": [incident_item(i, by_uid.get(i.monitor_uid)) for i in incidents],
            },
            "generatedAt": iso(self.deps.clock()),
        }

    def maintenance(self, now: datetime) -> list[dict[str, Any]]:
        """One line per window: running now or its next start within a week."""
        uids = {m.uid for m in self.deps.catalog.monitors()}
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        for o in self.index.maintenance(uids, now, UPCOMING):
            key = (o.namespace, o.name)
            if key in seen:
                seen[key]["more"] += 1
                continue
            seen[key] = {"namespace": o.namespace, "name": o.name, "title": o.title, "start": o.start,
                         "end": o.end, "running": o.start <= now, "monitors": len(o.monitor_uids),
                         "more": 0}  # fmt: skip
        return list(seen.values())

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        now = self.deps.clock()
        live = self.live()
        render(req, resp, "dashboard/overview.html", active="overview", live=live, states=STATES,
               maintenance=self.maintenance(now), problems=self.problems.get(), limit=LIST_LIMIT)  # fmt: skip


class LiveOverview:
    def __init__(self, overview: Overview) -> None:
        self.overview = overview

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.overview.live()
        resp.cache_control = ["no-store"]


OPENAPI = {
    "/": {"get": page("the overview: counts by state, what needs attention, incidents, maintenance, invalid "
                      "objects (HTML; a browser without a session is sent to /login)")},
    "/live/overview": {"get": json("the overview's counts and lists, for its live update")},
}  # fmt: skip


def register(app: falcon.App, deps: Deps) -> None:
    page = Overview(deps)
    app.add_route("/", page)
    app.add_route("/live/overview", LiveOverview(page))
