"""Alertmanager: alerts posted to its v2 API, so KubeKuma's monitors route, group, silence and
inhibit like every other alert of a Prometheus installation.

An alert's identity in Alertmanager is the fingerprint of its labels, so the labels hold
only what never changes between firing and resolving: the alert's name, the monitor, its
namespace, a severity fixed per alert kind, the monitor's own labels and the provider's
`labels`. Everything that varies (reason, latency, state) goes to annotations.

Alertmanager ends an alert by itself when its `endsAt` passes, because Prometheus resends
firing alerts on every evaluation. KubeKuma sends on transitions and reminders only, so a
firing alert carries `endsAt = time + resolveTimeout` (default 24 h) and DOWN stays firing
until the UP event resolves it (a reminder refreshes it).
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field, field_validator

from app.notifiers.base import Message, Notifier, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import Duration, SecretKeyRef

# alertname and severity per alert kind; an event belongs to one kind, firing or resolving it.
_DOWN, _FLAPPING = ("KubeKumaMonitorDown", "critical"), ("KubeKumaMonitorFlapping", "warning")
_KINDS = {
    "down": _DOWN, "reminder": _DOWN, "up": _DOWN, "flapping": _FLAPPING, "flappingEnded": _FLAPPING,
    "certificateExpiring": ("KubeKumaCertificateExpiring", "warning"),
}  # fmt: skip
_RESOLVING = {"up", "flappingEnded"}
_LABEL_NAME = re.compile(r"[^a-zA-Z0-9_]")


class AlertmanagerSettings(Settings):
    url: str = Field(description="Alertmanager's base URL, e.g. http://alertmanager.monitoring:9093")
    labels: dict[str, str] = Field(default_factory=dict, description="added to every alert, e.g. cluster")
    resolveTimeout: Duration = Field(86400.0, description="endsAt of a firing alert: time + this")
    bearerTokenSecretRef: SecretKeyRef | None = None
    basicAuthUsername: str | None = None
    basicAuthPasswordSecretRef: SecretKeyRef | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")


def label_name(key: str) -> str:
    """A Kubernetes label key (app.kubernetes.io/name) as a Prometheus label name (app_kubernetes_io_name)."""
    name = _LABEL_NAME.sub("_", key)
    return f"_{name}" if name[:1].isdigit() else name


def labels(msg: Message, extra: dict[str, str]) -> dict[str, str]:
    alertname, severity = _KINDS.get(msg.event, _DOWN)
    out = {label_name(k): v for k, v in {**msg.labels, **extra}.items() if not k.startswith("__")}
    out.update(alertname=alertname, severity=severity, namespace=msg.namespace, monitor=msg.monitor)
    return out


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def payload(msg: Message, s: AlertmanagerSettings) -> list[dict[str, Any]]:
    """The body of POST /api/v2/alerts: one alert, firing or resolved."""
    annotations = {"summary": msg.title, "description": msg.body, "reason": msg.reason, "state": msg.state}
    if msg.latency_ms is not None:
        annotations["latency_ms"] = f"{msg.latency_ms:g}"
    alert: dict[str, Any] = {
        "labels": labels(msg, s.labels),
        "annotations": {k: v for k, v in annotations.items() if v},
        "startsAt": _iso(msg.time),
    }
    if msg.url:
        alert["generatorURL"] = msg.url
    if msg.event in _RESOLVING:
        alert["endsAt"] = _iso(msg.time)
    else:
        alert["endsAt"] = _iso(msg.time + timedelta(seconds=s.resolveTimeout))
    return [alert]


def _headers(s: AlertmanagerSettings, ctx: NotifyContext) -> dict[str, str]:
    token = ctx.optional_secret(s.bearerTokenSecretRef, "spec.alertmanager.bearerTokenSecretRef")
    if token:
        return {"Authorization": f"Bearer {token}"}
    if s.basicAuthUsername:
        pw = ctx.optional_secret(s.basicAuthPasswordSecretRef, "spec.alertmanager.basicAuthPasswordSecretRef")
        pair = base64.b64encode(f"{s.basicAuthUsername}:{pw or ''}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}
    return {}


@register
class AlertmanagerNotifier(Notifier[AlertmanagerSettings]):
    type = "alertmanager"
    settings_model = AlertmanagerSettings
    style = "incident"

    def send(self, msg: Message, s: AlertmanagerSettings, ctx: NotifyContext) -> None:
        request(ctx, "alertmanager", "POST", s.url + "/api/v2/alerts", json=payload(msg, s),
                headers=_headers(s, ctx), timeout=s.timeout)  # fmt: skip

    def probe(self, s: AlertmanagerSettings, ctx: NotifyContext) -> bool:
        request(
            ctx, "alertmanager", "GET", s.url + "/api/v2/status", headers=_headers(s, ctx), timeout=s.timeout
        )
        return True
