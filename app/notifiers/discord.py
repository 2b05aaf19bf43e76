"""Discord: a channel webhook with one embed. The webhook URL is the credential (a Secret).

Discord answers GET on a webhook URL with the webhook's details and posts nothing, which
makes a silent probe. Mentions are disabled so a monitor name can never ping @everyone.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.notifiers.base import Message, Notifier, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef

COLORS = {"critical": 0xD63031, "warning": 0xFDCB6E, "info": 0x00B894}


class DiscordSettings(Settings):
    webhookUrlSecretRef: SecretKeyRef = Field(description="the channel webhook URL")
    username: str | None = None
    avatarUrl: str | None = None


def payload(msg: Message, s: DiscordSettings) -> dict[str, Any]:
    embed: dict[str, Any] = {
        "title": msg.title[:256], "description": msg.body[:4096],
        "color": COLORS.get(msg.severity, COLORS["info"]),
        "timestamp": msg.time.isoformat(), "footer": {"text": f"KubeKuma · {msg.namespace}/{msg.monitor}"},
    }  # fmt: skip
    if msg.url.startswith(("http://", "https://")):
        embed["url"] = msg.url
    out: dict[str, Any] = {"embeds": [embed], "allowed_mentions": {"parse": []}}
    if s.username:
        out["username"] = s.username
    if s.avatarUrl:
        out["avatar_url"] = s.avatarUrl
    return out


@register
class DiscordNotifier(Notifier[DiscordSettings]):
    type = "discord"
    settings_model = DiscordSettings

    def send(self, msg: Message, s: DiscordSettings, ctx: NotifyContext) -> None:
        url = ctx.secret(s.webhookUrlSecretRef, "spec.discord.webhookUrlSecretRef")
        request(ctx, "discord", "POST", url, json=payload(msg, s), timeout=s.timeout)

    def probe(self, s: DiscordSettings, ctx: NotifyContext) -> bool:
        url = ctx.secret(s.webhookUrlSecretRef, "spec.discord.webhookUrlSecretRef")
        request(ctx, "discord", "GET", url, timeout=s.timeout)
        return True
