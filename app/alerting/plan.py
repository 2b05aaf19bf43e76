"""From one event to the deliveries it deserves: route, then suppress, then render.

Pure: the caller hands in the cached configuration, the monitor, whether it is flapping
and the time. Every provider the event reaches gets a `Planned` entry: `pending` (to
send) or `suppressed` with the reason (recorded, so a muted alert is visible, not lost).
Checks that need history (dedupWindow, "no recovery notice for an outage never
announced") are the caller's, on the delivery rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.alerting.config import AlertConfig
from app.alerting.events import AlertEvent, EventKind
from app.alerting.routing import MonitorLike, PolicyView, ProviderView, Route, route
from app.alerting.templates import render_message, variables

PENDING, SUPPRESSED = "pending", "suppressed"
# Events that flapping replaces with its own notices (for policies subscribed to flapping).
_FLAP_MUTED = {EventKind.DOWN, EventKind.UP, EventKind.REMINDER}


@dataclass(slots=True)
class Planned:
    policy: PolicyView
    provider: ProviderView
    status: str  # pending or suppressed
    reason: str  # why it is suppressed; empty when pending
    title: str
    body: str

    def suppress(self, reason: str) -> None:
        self.status, self.reason = SUPPRESSED, reason


def suppression(event: AlertEvent, monitor: MonitorLike, policy: PolicyView, provider: ProviderView,
                cfg: AlertConfig, now: datetime, flapping: bool) -> str:  # fmt: skip
    """Why this delivery must not be sent, or '' when it may."""
    if not provider.enabled:
        return f"provider {provider.key} is disabled"
    window = cfg.maintenance(monitor, now)
    if window is not None and event.kind != EventKind.UP:
        # Planned work mutes news, but not the end of an outage people were told of before it
        # (the sender still checks that the provider heard of the outage).
        return f"in maintenance window {window.key}"
    silence = cfg.silence(monitor, now)
    if silence is not None:
        return silence.describe()
    if flapping and event.kind in _FLAP_MUTED and "flapping" in policy.spec.triggers:
        return "flapping: up/down notices pause until it settles"
    return ""


def plan(
    event: AlertEvent, monitor: MonitorLike, url: str, cfg: AlertConfig, now: datetime,
    flapping: bool = False, style_of: Callable[[str], str] = lambda provider_type: "chat",
) -> list[Planned]:  # fmt: skip
    routes = route(event.trigger, monitor, cfg.policies, cfg.providers).routes
    return plan_routes(event, monitor, url, routes, cfg, now, flapping, style_of)


def plan_routes(
    event: AlertEvent, monitor: MonitorLike, url: str, routes: list[Route], cfg: AlertConfig, now: datetime,
    flapping: bool = False, style_of: Callable[[str], str] = lambda provider_type: "chat",
) -> list[Planned]:  # fmt: skip
    if not routes:
        return []
    values = variables(event, monitor.name, monitor.namespace, url)
    out = []
    for r in routes:
        tpl = r.policy.spec.template
        title, body = render_message(event.kind, values, style_of(r.provider.type), tpl.title, tpl.body)
        why = suppression(event, monitor, r.policy, r.provider, cfg, now, flapping)
        out.append(Planned(r.policy, r.provider, SUPPRESSED if why else PENDING, why, title, body))
    return out
