"""Microsoft Teams: an Adaptive Card posted to a Workflows (Power Automate) webhook.

The webhook URL carries its signature, so it comes from a Secret. Workflows accept the
card and answer 202; there is no test that posts nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.notifiers.base import Message, Notifier, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef

COLORS = {"critical": "Attention", "warning": "Warning", "info": "Good"}


class TeamsSettings(Settings):
    webhookUrlSecretRef: SecretKeyRef = Field(description="the Workflows webhook URL")


def payload(msg: Message) -> dict[str, Any]:
    facts = [
        {"title": "Monitor", "value": f"{msg.namespace}/{msg.monitor}"},
        {"title": "State", "value": msg.state},
    ]
    if msg.reason:
        facts.append({"title": "Reason", "value": msg.reason})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard", "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": msg.title, "weight": "Bolder", "size": "Medium", "wrap": True,
             "color": COLORS.get(msg.severity, "Default")},
            {"type": "TextBlock", "text": msg.body, "wrap": True},
            {"type": "FactSet", "facts": facts},
        ],
    }  # fmt: skip
    if msg.url.startswith(("http://", "https://")):
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open target", "url": msg.url}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card},
    ]}  # fmt: skip


@register
class TeamsNotifier(Notifier[TeamsSettings]):
    type = "teams"
    settings_model = TeamsSettings

    def send(self, msg: Message, s: TeamsSettings, ctx: NotifyContext) -> None:
        url = ctx.secret(s.webhookUrlSecretRef, "spec.teams.webhookUrlSecretRef")
        request(ctx, "teams", "POST", url, json=payload(msg), timeout=s.timeout)
