"""The maintenance calendar (`/maintenance`): one line per window, running ones marked.

Each MaintenanceWindow shows its next occurrence (or, when running, until when), its
recurrence in words, its duration and zone, and how many monitors it covers now — the
same windows, expanded by the same code, that mute alerts (`app.alerting.config`).
`days` (1–366, default 30) is how far ahead a window's next start is looked for.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import falcon

from app.alerting.maintenance import WindowView
from app.catalog import MonitorEntry
from app.http.dashboard import Deps, render
from app.http.dashboard.alertview import alert_config
from app.http.dashboard.openapi import page, query
from app.http.errors import int_param
from app.uptime.words import duration_text, recurrence_text


def line(w: WindowView, monitors: list[MonitorEntry], now: Any, horizon: timedelta) -> dict[str, Any]:
    spec = w.spec
    running = w.active(now)
    current = w.occurrences(now, now + timedelta(seconds=1), limit=1) if running else []
    nxt = w.next_start(now)
    return {
        "key": w.key, "title": spec.title or w.name, "description": spec.description,
        "running": running, "until": current[0][1] if current else None,
        "next": nxt if nxt is not None and nxt <= now + horizon else None, "later": nxt is not None,
        "recurrence": recurrence_text(spec.rrule, spec.start, spec.timezone) if spec.rrule else "once",
        "duration": duration_text(spec.duration), "timezone": spec.timezone,
        "monitors": sorted(m.key for m in monitors if w.selects(m)),
    }  # fmt: skip


class MaintenancePage:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.config = alert_config(deps.store)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        days = int_param(req, "days", 30, 1, 366) or 30
        now = self.deps.clock()
        monitors = self.deps.catalog.monitors()
        lines = [line(w, monitors, now, timedelta(days=days)) for w in self.config.get().windows]
        soon = now + timedelta(days=days + 1)
        lines.sort(key=lambda x: (not x["running"], x["next"] or soon, x["key"]))
        render(req, resp, "dashboard/maintenance.html", active="maintenance", lines=lines, days=days)


DAYS = {"type": "integer", "minimum": 1, "maximum": 366}
OPENAPI = {
    "/maintenance": {"get": page("the maintenance calendar, one line per window (HTML)", [
        query("days", "how far ahead to look for a next start, 1-366", DAYS)], bad_request=True)},
}  # fmt: skip


def register(app: falcon.App, deps: Deps) -> None:
    app.add_route("/maintenance", MaintenancePage(deps))
