"""Google Chat: text to a space webhook; one thread per alert unless threading is off."""

from __future__ import annotations

import pytest

from app.notifiers import notifier
from app.notifiers.googlechat import GoogleChatSettings, payload
from tests.notifiers.conftest import Receiver, context, message, ref

N = notifier("googlechat")


@pytest.mark.parametrize(
    ("event", "threaded", "thread"),
    [
        ("down", True, "kubekuma-0b6f"),
        ("up", True, "kubekuma-0b6f"),
        ("flapping", True, "kubekuma-0b6f-flapping"),
        ("down", False, None),
    ],
    ids=["down", "up-same-thread", "flapping-own-thread", "unthreaded"],
)
def test_payload(event: str, threaded: bool, thread: str | None) -> None:
    s = GoogleChatSettings.model_validate({"webhookUrlSecretRef": ref("url"), "threaded": threaded})
    body = payload(message(event), s)
    assert body["text"].startswith(f"*{message(event).title}*\n")
    assert body.get("thread", {}).get("threadKey") == thread


def test_send_keeps_the_webhook_query_and_adds_the_reply_option(receiver: Receiver) -> None:
    s = GoogleChatSettings.model_validate({"webhookUrlSecretRef": ref("url")})
    N.send(message(), s, context(url=receiver.url + "/v1/spaces/AAA/messages?key=k&token=t"))
    q = receiver.last.query
    assert receiver.last.path == "/v1/spaces/AAA/messages" and q["key"] == ["k"] and q["token"] == ["t"]
    assert q["messageReplyOption"] == ["REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"]
