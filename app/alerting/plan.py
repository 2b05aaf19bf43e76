"""From one event to the deliveries it deserves: route, then suppress, then render.

Pure: the caller hands in the cached configuration, the monitor, whether it is flapping
and the time. Every provider the event reaches gets a `Planned` entry: `pending` (to
send) or `suppressed` with the reason (recorded, so a muted alert is visible, not lost).
A matching policy's reference to a provider that does not exist gets a `failed` entry
("provider ns/name does not exist") against a stand-in provider (`ProviderView.missing`),
for the caller to record as a failed delivery and log: a broken route is never silent.
Checks that need history (dedupWindow, "no recovery notice for an outage never
announced") are the caller's, on the delivery rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from app.alerting.config import AlertConfig
from app.alerting.events import AlertEvent, EventKind
from app.alerting.routing import MissingRoute, MonitorLike, PolicyView, ProviderView, Route, route
from app.alerting.templates import render_message, variables
from app.model import DeliveryStatus

PENDING, SUPPRESSED, FAILED = DeliveryStatus.PENDING, DeliveryStatus.SUPPRESSED, DeliveryStatus.FAILED
# Events that flapping replaces with its own notices (for policies subscribed to flapping).
_FLAP_MUTED = {EventKind.DOWN, EventKind.UP, EventKind.REMINDER}


@dataclass(slots=True)
class Planned:
    policy: PolicyView
    provider: ProviderView
    status: DeliveryStatus  # pending, suppressed or failed
    reason: str  # why it is suppressed or failed; empty when pending
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
    routing = route(event.trigger, monitor, cfg.policies, cfg.providers)
    return plan_routes(event, monitor, url, routing.routes, cfg, now, flapping, style_of) + plan_missing(
        event, monitor, url, routing.missing
    )


def plan_missing(
    event: AlertEvent, monitor: MonitorLike, url: str, missing: list[MissingRoute]
) -> list[Planned]:
    """A `failed` entry per reference to a provider that does not exist, rendered as it would have been."""
    if not missing:
        return []
    values = variables(event, monitor.name, monitor.namespace, url)
    out = []
    for m in missing:
        tpl = m.policy.spec.template
        title, body = render_message(event.kind, values, "chat", tpl.title, tpl.body)
        out.append(
            Planned(m.policy, ProviderView.missing(m.namespace, m.name), FAILED, m.reason, title, body)
        )
    return out


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
