"""The audit log (`/audit`, admins only): who did what, newest first, filtered by actor and action.

Pages with `before` (the id of the last event shown): one indexed read per page however
long the log. The access middleware lets only admins in, as it does for `/api/v1/audit`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import falcon

from app.http.dashboard import Deps, render
from app.http.dashboard.alertview import BEFORE, TEXT, text_param
from app.http.dashboard.openapi import page, query
from app.http.errors import int_param

PER_PAGE = 100
ACTIONS = ("mutation", "login", "login.failed", "logout", "oidc", "throttled", "key.used", "totp.enrolled")


def details_text(details: dict[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, ensure_ascii=False)[:500] if details else ""


class AuditPage:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor, action = text_param(req, "actor"), text_param(req, "action")
        before = int_param(req, "before", None, 1, 2**62)
        events = self.deps.store.audit.list(PER_PAGE, before, action or None, actor or None)
        params = {k: v for k, v in (("actor", actor), ("action", action)) if v}
        next_url = (
            "/audit?" + urlencode({**params, "before": events[-1].id}) if len(events) == PER_PAGE else ""
        )
        render(req, resp, "dashboard/audit.html", active="audit", events=events, details=details_text,
               f={"actor": actor, "action": action}, actions=ACTIONS, next_url=next_url)  # fmt: skip


OPENAPI = {
    "/audit": {"get": page("the audit log, newest first (HTML, admins)", [
        query("actor", "who", TEXT), query("action", "what", TEXT),
        query("before", "the id of the last event shown", BEFORE)], bad_request=True)},
}  # fmt: skip


def register(app: falcon.App, deps: Deps) -> None:
    app.add_route("/audit", AuditPage(deps))
