"""Matrix: a message into a room through the client-server API, as a bot account.

The transaction id is derived from the delivery's key, so the homeserver itself drops a
resent duplicate. The probe asks whoami (is the token valid?) and joined_rooms (is the
account in the room?), which post nothing.
"""

from __future__ import annotations

import hashlib
import html
from typing import Any
from urllib.parse import quote

from pydantic import Field

from app.notifiers.base import Message, Notifier, NotifierError, NotifyContext, Settings, register
from app.notifiers.transport import request
from app.resources.common import SecretKeyRef


class MatrixSettings(Settings):
    homeserverUrl: str = Field(description="e.g. https://matrix.example.org")
    roomId: str = Field(pattern=r"^!.+:.+$", description="the internal room id, !abc:example.org")
    accessTokenSecretRef: SecretKeyRef
    notice: bool = Field(True, description="send as m.notice (how bots talk) instead of m.text")


def payload(msg: Message, s: MatrixSettings) -> dict[str, Any]:
    formatted = f"<b>{html.escape(msg.title)}</b>"
    if msg.body:
        formatted += "<br>" + html.escape(msg.body).replace("\n", "<br>")
    return {"msgtype": "m.notice" if s.notice else "m.text", "body": msg.text,
            "format": "org.matrix.custom.html", "formatted_body": formatted}  # fmt: skip


def txn_id(msg: Message) -> str:
    return "kubekuma-" + hashlib.sha256(msg.key.encode()).hexdigest()[:32]


@register
class MatrixNotifier(Notifier[MatrixSettings]):
    type = "matrix"
    settings_model = MatrixSettings

    def _auth(self, s: MatrixSettings, ctx: NotifyContext) -> dict[str, str]:
        return {
            "Authorization": "Bearer "
            + ctx.secret(s.accessTokenSecretRef, "spec.matrix.accessTokenSecretRef")
        }

    def send(self, msg: Message, s: MatrixSettings, ctx: NotifyContext) -> None:
        url = (f"{s.homeserverUrl.rstrip('/')}/_matrix/client/v3/rooms/{quote(s.roomId, safe='')}"
               f"/send/m.room.message/{txn_id(msg)}")  # fmt: skip
        request(
            ctx, "matrix", "PUT", url, json=payload(msg, s), headers=self._auth(s, ctx), timeout=s.timeout
        )

    def probe(self, s: MatrixSettings, ctx: NotifyContext) -> bool:
        base = f"{s.homeserverUrl.rstrip('/')}/_matrix/client/v3"
        headers = self._auth(s, ctx)
        request(ctx, "matrix", "GET", f"{base}/account/whoami", headers=headers, timeout=s.timeout)
        rooms = request(
            ctx, "matrix", "GET", f"{base}/joined_rooms", headers=headers, timeout=s.timeout
        ).json()
        if s.roomId not in rooms.get("joined_rooms", []):
            raise NotifierError(f"matrix: the account has not joined {s.roomId}", permanent=True)
        return True
