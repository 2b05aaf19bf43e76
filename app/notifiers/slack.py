"""Slack: an incoming webhook. The webhook URL is the credential, so it comes from a Secret.

Slack reads `<`, `>` and `&` as markup, so the text is escaped. Incoming webhooks offer no
test that posts nothing, so there is no probe.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.notifiers.base import Message, Notifier, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef

COLORS = {"critical": "#d63031", "warning": "#fdcb6e", "info": "#00b894"}


class SlackSettings(Settings):
    webhookUrlSecretRef: SecretKeyRef = Field(description="the incoming webhook URL")
    channel: str | None = Field(None, description="override the webhook's channel, e.g. #alerts")
    username: str | None = None
    iconEmoji: str | None = Field(None, description="e.g. :rotating_light:")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(msg: Message, s: SlackSettings) -> dict[str, Any]:
    out: dict[str, Any] = {
        "text": escape(msg.title),
        "attachments": [{
            "color": COLORS.get(msg.severity, COLORS["info"]), "text": escape(msg.body),
            "footer": f"KubeKuma · {msg.namespace}/{msg.monitor}", "ts": int(msg.time.timestamp()),
        }],
    }  # fmt: skip
    for key, value in (("channel", s.channel), ("username", s.username), ("icon_emoji", s.iconEmoji)):
        if value:
            out[key] = value
    return out


@register
class SlackNotifier(Notifier[SlackSettings]):
    type = "slack"
    settings_model = SlackSettings

    def send(self, msg: Message, s: SlackSettings, ctx: NotifyContext) -> None:
        url = ctx.secret(s.webhookUrlSecretRef, "spec.slack.webhookUrlSecretRef")
        request(ctx, "slack", "POST", url, json=payload(msg, s), timeout=s.timeout)
