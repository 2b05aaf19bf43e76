"""ntfy: publish to a topic on ntfy.sh or a self-hosted server, with a token or a password if set.

Published as JSON to the server root, so a title with any characters is safe. The probe
asks /v1/health, which posts nothing.
"""

from __future__ import annotations

import base64
from typing import Any

from pydantic import Field, model_validator

from app.notifiers.base import Message, Notifier, NotifierError, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef

TAGS = {
    "down": ["rotating_light"], "reminder": ["rotating_light"], "up": ["white_check_mark"],
    "flapping": ["warning"], "flappingEnded": ["white_check_mark"], "certificateExpiring": ["lock"],
}  # fmt: skip


class NtfySettings(Settings):
    url: str = "https://ntfy.sh"
    topic: str = Field(min_length=1, pattern=r"^[-_A-Za-z0-9]{1,64}$")
    tokenSecretRef: SecretKeyRef | None = Field(None, description="an access token (tk_...)")
    username: str | None = None
    passwordSecretRef: SecretKeyRef | None = None
    priority: int = Field(4, ge=1, le=5, description="for down notices; the others use the default (3)")

    @model_validator(mode="after")
    def _auth(self) -> NtfySettings:
        if self.tokenSecretRef is not None and self.passwordSecretRef is not None:
            raise ValueError("give tokenSecretRef or username with passwordSecretRef, not both")
        if (self.username is None) != (self.passwordSecretRef is None):
            raise ValueError("username and passwordSecretRef go together")
        return self


def payload(msg: Message, s: NtfySettings) -> dict[str, Any]:
    out: dict[str, Any] = {
        "topic": s.topic, "title": msg.title, "message": msg.body or msg.title,
        "priority": s.priority if msg.severity == "critical" else 3, "tags": TAGS.get(msg.event, []),
    }  # fmt: skip
    if msg.url.startswith(("http://", "https://")):
        out["click"] = msg.url
    return out


@register
class NtfyNotifier(Notifier[NtfySettings]):
    type = "ntfy"
    settings_model = NtfySettings
    style = "push"

    def _headers(self, s: NtfySettings, ctx: NotifyContext) -> dict[str, str]:
        token = ctx.optional_secret(s.tokenSecretRef, "spec.ntfy.tokenSecretRef")
        if token:
            return {"Authorization": f"Bearer {token}"}
        password = ctx.optional_secret(s.passwordSecretRef, "spec.ntfy.passwordSecretRef")
        if s.username and password is not None:
            basic = base64.b64encode(f"{s.username}:{password}".encode()).decode()
            ctx.revealed.append(basic)
            return {"Authorization": f"Basic {basic}"}
        return {}

    def send(self, msg: Message, s: NtfySettings, ctx: NotifyContext) -> None:
        headers = self._headers(s, ctx)
        request(
            ctx,
            "ntfy",
            "POST",
            s.url.rstrip("/") + "/",
            json=payload(msg, s),
            headers=headers,
            timeout=s.timeout,
        )

    def probe(self, s: NtfySettings, ctx: NotifyContext) -> bool:
        self._headers(s, ctx)  # the Secrets must resolve
        resp = request(ctx, "ntfy", "GET", s.url.rstrip("/") + "/v1/health", timeout=s.timeout)
        if (resp.json() if resp.content else {}).get("healthy") is False:
            raise NotifierError("ntfy: the server reports itself unhealthy")
        return True
