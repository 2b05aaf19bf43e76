"""Telegram: the Bot API's sendMessage to a chat. The bot token (a Secret) sits in the URL path.

Sent as plain text, so nothing in a reason can break a parse mode. The probe asks getMe
(is the token valid?) and getChat (can the bot see the chat?), which post nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.notifiers.base import Message, Notifier, NotifierError, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef


class TelegramSettings(Settings):
    botTokenSecretRef: SecretKeyRef = Field(description="the token from @BotFather")
    chatId: str = Field(min_length=1, description="a chat id (e.g. -1001234567890) or @channelname")
    messageThreadId: int | None = Field(None, description="a topic in a forum supergroup")
    disableNotification: bool = False
    apiUrl: str = "https://api.telegram.org"


def payload(msg: Message, s: TelegramSettings) -> dict[str, Any]:
    out: dict[str, Any] = {
        "chat_id": s.chatId, "text": msg.text[:4096], "disable_web_page_preview": True,
        "disable_notification": s.disableNotification,
    }  # fmt: skip
    if s.messageThreadId is not None:
        out["message_thread_id"] = s.messageThreadId
    return out


@register
class TelegramNotifier(Notifier[TelegramSettings]):
    type = "telegram"
    settings_model = TelegramSettings

    def _call(self, s: TelegramSettings, ctx: NotifyContext, method: str, body: dict[str, Any]) -> Any:
        token = ctx.secret(s.botTokenSecretRef, "spec.telegram.botTokenSecretRef")
        url = f"{s.apiUrl.rstrip('/')}/bot{token}/{method}"
        resp = request(ctx, "telegram", "POST", url, json=body, timeout=s.timeout)
        data = resp.json() if resp.content else {}
        if not data.get("ok", False):
            raise NotifierError(f"telegram {method}: {ctx.redact(str(data.get('description', data)))}",
                                permanent=True)  # fmt: skip
        return data.get("result")

    def send(self, msg: Message, s: TelegramSettings, ctx: NotifyContext) -> None:
        self._call(s, ctx, "sendMessage", payload(msg, s))

    def probe(self, s: TelegramSettings, ctx: NotifyContext) -> bool:
        self._call(s, ctx, "getMe", {})
        self._call(s, ctx, "getChat", {"chat_id": s.chatId})
        return True
