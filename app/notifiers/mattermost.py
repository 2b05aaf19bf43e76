"""Mattermost: an incoming webhook (Slack-compatible attachments). The URL is a Secret; no probe."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.notifiers.base import Message, Notifier, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef

COLORS = {"critical": "#d63031", "warning": "#fdcb6e", "info": "#00b894"}


class MattermostSettings(Settings):
    webhookUrlSecretRef: SecretKeyRef = Field(description="the incoming webhook URL")
    channel: str | None = Field(None, description="a channel name, if the webhook may post elsewhere")
    username: str | None = None
    iconUrl: str | None = None


def payload(msg: Message, s: MattermostSettings) -> dict[str, Any]:
    out: dict[str, Any] = {"attachments": [{
        "fallback": msg.text, "color": COLORS.get(msg.severity, COLORS["info"]), "title": msg.title,
        "text": msg.body, "footer": f"KubeKuma · {msg.namespace}/{msg.monitor}",
    }]}  # fmt: skip
    if msg.url.startswith(("http://", "https://")):
        out["attachments"][0]["title_link"] = msg.url
    for key, value in (("channel", s.channel), ("username", s.username), ("icon_url", s.iconUrl)):
        if value:
            out[key] = value
    return out


@register
class MattermostNotifier(Notifier[MattermostSettings]):
    type = "mattermost"
    settings_model = MattermostSettings

    def send(self, msg: Message, s: MattermostSettings, ctx: NotifyContext) -> None:
        url = ctx.secret(s.webhookUrlSecretRef, "spec.mattermost.webhookUrlSecretRef")
        request(ctx, "mattermost", "POST", url, json=payload(msg, s), timeout=s.timeout)
