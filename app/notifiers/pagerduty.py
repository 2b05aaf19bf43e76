"""PagerDuty: Events API v2. DOWN triggers and UP resolves one alert, tied by its dedup_key.

A reminder re-triggers the same key, which PagerDuty folds into the open alert, so a
resend is harmless too. The routing key is a Secret; there is no silent probe.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.notifiers.base import Action, Message, Notifier, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef


class PagerDutySettings(Settings):
    routingKeySecretRef: SecretKeyRef = Field(description="the integration (routing) key of a service")
    eventsUrl: str = "https://events.pagerduty.com/v2/enqueue"


def payload(msg: Message, routing_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": msg.action.value,
        "dedup_key": msg.alert_key,
    }
    if msg.action is Action.RESOLVE:
        return out
    details: dict[str, Any] = {
        "reason": msg.reason,
        "state": msg.state,
        "message": msg.body,
        "labels": msg.labels,
    }
    out["client"] = "KubeKuma"
    out["payload"] = {
        "summary": msg.title[:1024], "source": msg.url or f"{msg.namespace}/{msg.monitor}",
        "severity": msg.severity, "timestamp": msg.time.isoformat(), "component": msg.monitor,
        "group": msg.namespace, "class": msg.event, "custom_details": details,
    }  # fmt: skip
    return out


@register
class PagerDutyNotifier(Notifier[PagerDutySettings]):
    type = "pagerduty"
    settings_model = PagerDutySettings
    style = "incident"

    def send(self, msg: Message, s: PagerDutySettings, ctx: NotifyContext) -> None:
        key = ctx.secret(s.routingKeySecretRef, "spec.pagerduty.routingKeySecretRef")
        request(ctx, "pagerduty", "POST", s.eventsUrl, json=payload(msg, key), timeout=s.timeout)
