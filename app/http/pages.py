"""Server-rendered HTML (readable without JavaScript): the dashboard."""

from __future__ import annotations

import falcon
from jinja2 import Environment, PackageLoader, select_autoescape

from app.catalog import Catalog
from app.http.monitors import monitor_json
from app.store import Store

templates = Environment(loader=PackageLoader("app.http", "templates"), autoescape=select_autoescape())


class Dashboard:
    def __init__(self, store: Store, catalog: Catalog) -> None:
        self.store, self.catalog = store, catalog

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        states = self.store.checks.states()
        items = [monitor_json(m, states.get(m.uid)) for m in self.catalog.monitors()]
        order = {"DOWN": 0, "PENDING": 1, "MAINTENANCE": 2, "UP": 3}
        items.sort(key=lambda i: (order.get(i["state"] or "", 4), i["namespace"], i["name"]))
        counts = {s: sum(1 for i in items if i["state"] == s) for s in order}
        problems = [
            f"{r.kind} {r.namespace}/{r.name}: "
            + "; ".join(
                c.get("message", "") for c in r.status.get("conditions", []) if c.get("type") == "Valid"
            )
            for r in self.store.resources.list()
            if not r.valid
        ]
        resp.content_type = falcon.MEDIA_HTML
        resp.text = templates.get_template("dashboard.html").render(
            monitors=items, counts=counts, problems=problems
        )
