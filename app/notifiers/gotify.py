"""Gotify: a message to a self-hosted Gotify server with an application token (a Secret).

The probe asks /health, which needs no token and posts nothing (an application token
cannot read anything, so it is only checked by sending).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.notifiers.base import Message, Notifier, NotifierError, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef


class GotifySettings(Settings):
    url: str = Field(description="the Gotify server, e.g. https://gotify.example.com")
    tokenSecretRef: SecretKeyRef = Field(description="an application token")
    priority: int = Field(8, ge=0, le=10, description="for down notices; others go one step lower per level")


def priority(msg: Message, s: GotifySettings) -> int:
    return s.priority if msg.severity == "critical" else max(0, s.priority - 3)


def payload(msg: Message, s: GotifySettings) -> dict[str, Any]:
    extras: dict[str, Any] = {"client::display": {"contentType": "text/plain"}}
    if msg.url.startswith(("http://", "https://")):
        extras["client::notification"] = {"click": {"url": msg.url}}
    return {
        "title": msg.title,
        "message": msg.body or msg.title,
        "priority": priority(msg, s),
        "extras": extras,
    }


@register
class GotifyNotifier(Notifier[GotifySettings]):
    type = "gotify"
    settings_model = GotifySettings
    style = "push"

    def send(self, msg: Message, s: GotifySettings, ctx: NotifyContext) -> None:
        token = ctx.secret(s.tokenSecretRef, "spec.gotify.tokenSecretRef")
        request(ctx, "gotify", "POST", f"{s.url.rstrip('/')}/message", json=payload(msg, s),
                headers={"X-Gotify-Key": token}, timeout=s.timeout)  # fmt: skip

    def probe(self, s: GotifySettings, ctx: NotifyContext) -> bool:
        ctx.secret(s.tokenSecretRef, "spec.gotify.tokenSecretRef")  # at least the Secret must exist
        resp = request(ctx, "gotify", "GET", f"{s.url.rstrip('/')}/health", timeout=s.timeout)
        health = resp.json() if resp.content else {}
        if health.get("health") not in (None, "green"):
            raise NotifierError(f"gotify: server health is {health.get('health')!r}")
        return True
