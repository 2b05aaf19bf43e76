"""Google Chat: a space webhook. Messages of one alert share a thread (DOWN, reminders, UP).

The webhook URL holds its key and token, so it comes from a Secret; there is no probe.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.notifiers.base import Message, Notifier, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef


class GoogleChatSettings(Settings):
    webhookUrlSecretRef: SecretKeyRef = Field(description="the space's webhook URL")
    threaded: bool = Field(True, description="keep the messages of one alert in one thread")


def payload(msg: Message, s: GoogleChatSettings) -> dict[str, Any]:
    out: dict[str, Any] = {"text": f"*{msg.title}*\n{msg.body}" if msg.body else f"*{msg.title}*"}
    if s.threaded:
        out["thread"] = {"threadKey": msg.alert_key}
    return out


@register
class GoogleChatNotifier(Notifier[GoogleChatSettings]):
    type = "googlechat"
    settings_model = GoogleChatSettings

    def send(self, msg: Message, s: GoogleChatSettings, ctx: NotifyContext) -> None:
        url = ctx.secret(s.webhookUrlSecretRef, "spec.googlechat.webhookUrlSecretRef")
        params = {"messageReplyOption": "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"} if s.threaded else None
        request(ctx, "googlechat", "POST", url, json=payload(msg, s), params=params, timeout=s.timeout)
