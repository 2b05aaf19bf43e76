"""Status pages (`/status-pages`): every StatusPage with its public links.

Read from the same page index the public pages are served from, so a link here is a page
that exists; a StatusPage whose spec does not validate is listed with its problem.
"""

from __future__ import annotations

import falcon

from app.http.dashboard import Deps, render
from app.http.dashboard.openapi import page
from app.http.statuspages import PageIndex


class StatusPagesList:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.index = PageIndex(deps.store, deps.catalog)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        pages = sorted(self.index.pages(), key=lambda p: (p.spec.title.lower(), p.slug))
        served = {(p.namespace, p.name) for p in pages}
        broken = [r for r in self.deps.store.resources.list(kind="StatusPage")
                  if (r.namespace, r.name) not in served]  # fmt: skip
        render(req, resp, "dashboard/statuslist.html", active="status-pages", pages=pages, broken=broken)


OPENAPI = {"/status-pages": {"get": page("the status pages, with their public links (HTML)")}}


def register(app: falcon.App, deps: Deps) -> None:
    app.add_route("/status-pages", StatusPagesList(deps))
