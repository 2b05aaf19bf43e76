"""Opsgenie: Alert API v2. DOWN creates and UP closes one alert, tied by its alias.

Opsgenie folds a create with an alias that is already open into that alert, so a resend
or a reminder does not page twice. The API key is a Secret; `apiUrl` selects the EU
instance. There is no silent probe.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from pydantic import Field

from app.notifiers.base import Action, Message, Notifier, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef


class OpsgenieSettings(Settings):
    apiKeySecretRef: SecretKeyRef = Field(description="an API integration key")
    apiUrl: str = Field("https://api.opsgenie.com", description="https://api.eu.opsgenie.com for the EU")
    priority: Literal["P1", "P2", "P3", "P4", "P5"] = Field("P2", description="for down notices; others P4")
    tags: list[str] = Field(default_factory=list)
    responders: list[dict[str, str]] = Field(
        default_factory=list, description="e.g. [{type: team, name: SRE}]"
    )


def create_payload(msg: Message, s: OpsgenieSettings) -> dict[str, Any]:
    out: dict[str, Any] = {
        "message": msg.title[:130], "alias": msg.alert_key, "description": msg.body[:15000],
        "source": "KubeKuma", "entity": f"{msg.namespace}/{msg.monitor}"[:512],
        "priority": s.priority if msg.severity == "critical" else "P4",
        "tags": [*s.tags, f"event:{msg.event}"],
        "details": {"state": msg.state, "reason": msg.reason[:1000], "url": msg.url, **msg.labels},
    }  # fmt: skip
    if s.responders:
        out["responders"] = s.responders
    return out


def close_payload(msg: Message) -> dict[str, Any]:
    return {"source": "KubeKuma", "note": msg.text[:25000]}


@register
class OpsgenieNotifier(Notifier[OpsgenieSettings]):
    type = "opsgenie"
    settings_model = OpsgenieSettings
    style = "incident"

    def send(self, msg: Message, s: OpsgenieSettings, ctx: NotifyContext) -> None:
        headers = {
            "Authorization": "GenieKey " + ctx.secret(s.apiKeySecretRef, "spec.opsgenie.apiKeySecretRef")
        }
        base = s.apiUrl.rstrip("/") + "/v2/alerts"
        if msg.action is Action.RESOLVE:
            url = f"{base}/{quote(msg.alert_key, safe='')}/close"
            request(ctx, "opsgenie", "POST", url, json=close_payload(msg), params={"identifierType": "alias"},
                    headers=headers, timeout=s.timeout)  # fmt: skip
        else:
            request(
                ctx, "opsgenie", "POST", base, json=create_payload(msg, s), headers=headers, timeout=s.timeout
            )
