"""Audit events: who did what, when and from where; readable by admins at GET /api/v1/audit.

Details never hold a password, a key, a code or a session id: callers pass names and
outcomes only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import falcon

from app.http.errors import bad_request, int_param
from app.store import Store

log = logging.getLogger(__name__)

ACTIONS = ("login", "login.failed", "logout", "key.used", "mutation", "totp.enrolled")


class Auditor:
    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store, self.clock = store, clock

    def record(self, req: falcon.Request | None, actor: str, action: str, target: str | None = None,
               **details: Any) -> None:  # fmt: skip
        if req is not None:
            details.setdefault("address", req.remote_addr or "-")
        self.store.audit.add(self.clock(), actor, action, target, details)
        log.info("audit: %s %s %s", actor, action, target or "")


class AuditList:
    """GET /api/v1/audit: newest first; `action`, `limit` and `before` (the previous page's `next`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limit = int_param(req, "limit", 100, 1, 1000) or 100
        before = int_param(req, "before", None, 1, 2**62)
        action = req.get_param("action")
        if action and action not in ACTIONS:
            raise bad_request("action", f"must be one of {', '.join(ACTIONS)}")
        rows = self.store.audit.list(limit, before, action)
        resp.media = {
            "items": [r.to_json() for r in rows],
            "next": rows[-1].id if len(rows) == limit else None,
        }
