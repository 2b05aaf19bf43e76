"""Notification providers (`/providers`): each with its health and a "send test" button.

Health is what its deliveries say: the last one's result and when, and how many of the
last `RECENT` failed. Settings are not shown (they name webhook URLs and secret
references). "Send test" posts to `POST /api/v1/providers/{namespace}/{name}/test`, which
sends one message now and answers with the provider's error if it refuses; the button is
there only for people who may change things.
"""

from __future__ import annotations

from typing import Any

import falcon

from app.alerting.routing import ProviderView
from app.http.dashboard import Deps, render
from app.http.dashboard.alertview import alert_config
from app.http.dashboard.openapi import page
from app.model import DeliveryStatus
from app.store import Store

RECENT = 20


def health(store: Store, p: ProviderView) -> dict[str, Any]:
    recent = store.deliveries.list(provider_uids=[p.uid], limit=RECENT)
    done = [d for d in recent if d.status in (DeliveryStatus.SENT, DeliveryStatus.FAILED)]
    last = done[0] if done else None
    return {
        "last": last,
        "failed": sum(1 for d in recent if d.status == DeliveryStatus.FAILED),
        "pending": sum(1 for d in recent if d.status == DeliveryStatus.PENDING),
        "recent": len(recent),
        "ok": last is None or last.status == DeliveryStatus.SENT,
    }


class ProvidersPage:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.config = alert_config(deps.store)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cfg = self.config.get()
        store = self.deps.store
        items = [{"p": p, "h": health(store, p)} for p in sorted(cfg.providers.values(), key=lambda p: p.key)]
        invalid = [r for r in store.resources.list(kind="NotificationProvider") if not r.valid]
        render(req, resp, "dashboard/providers.html", active="providers", items=items, invalid=invalid,
               recent=RECENT)  # fmt: skip


OPENAPI = {"/providers": {"get": page("notification providers, their health and a test button (HTML)")}}


def register(app: falcon.App, deps: Deps) -> None:
    app.add_route("/providers", ProvidersPage(deps))
