"""Pushover: a push notification to a user or group key, sent with an application token.

Both keys are Secrets. The probe calls users/validate, which checks both keys and sends
nothing. Pushover answers a bad key with a 4xx, which is permanent.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.notifiers.base import Message, Notifier, NotifierError, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef


class PushoverSettings(Settings):
    userKeySecretRef: SecretKeyRef = Field(description="the user or group key")
    apiTokenSecretRef: SecretKeyRef = Field(description="the application's API token")
    priority: int = Field(
        1, ge=-2, le=2, description="for down notices (2 = emergency: repeats until acknowledged)"
    )
    sound: str | None = None
    device: str | None = None
    apiUrl: str = "https://api.pushover.net"


def payload(msg: Message, s: PushoverSettings) -> dict[str, Any]:
    """The form fields besides token and user."""
    prio = s.priority if msg.severity == "critical" else min(0, s.priority)
    out: dict[str, Any] = {"title": msg.title[:250], "message": (msg.body or msg.title)[:1024],
                           "priority": prio, "timestamp": int(msg.time.timestamp())}  # fmt: skip
    if prio == 2:  # emergency: Pushover requires how often and how long to repeat
        out.update(retry=60, expire=3600)
    if msg.url.startswith(("http://", "https://")):
        out["url"] = msg.url[:512]
    for key, value in (("sound", s.sound), ("device", s.device)):
        if value:
            out[key] = value
    return out


@register
class PushoverNotifier(Notifier[PushoverSettings]):
    type = "pushover"
    settings_model = PushoverSettings
    style = "push"

    def _keys(self, s: PushoverSettings, ctx: NotifyContext) -> dict[str, str]:
        return {"token": ctx.secret(s.apiTokenSecretRef, "spec.pushover.apiTokenSecretRef"),
                "user": ctx.secret(s.userKeySecretRef, "spec.pushover.userKeySecretRef")}  # fmt: skip

    def send(self, msg: Message, s: PushoverSettings, ctx: NotifyContext) -> None:
        request(ctx, "pushover", "POST", f"{s.apiUrl.rstrip('/')}/1/messages.json",
                data={**self._keys(s, ctx), **payload(msg, s)}, timeout=s.timeout)  # fmt: skip

    def probe(self, s: PushoverSettings, ctx: NotifyContext) -> bool:
        resp = request(ctx, "pushover", "POST", f"{s.apiUrl.rstrip('/')}/1/users/validate.json",
                       data=self._keys(s, ctx), timeout=s.timeout)  # fmt: skip
        if (resp.json() if resp.content else {}).get("status") != 1:
            raise NotifierError("pushover: the user key was not accepted", permanent=True)
        return True
