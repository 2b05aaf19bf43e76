"""Telegram: sendMessage as plain text; getMe and getChat as the silent probe; the token never shows."""

from __future__ import annotations

from typing import Any

import pytest

from app.notifiers import NotifierError, notifier
from app.notifiers.telegram import TelegramSettings, payload
from tests.notifiers.conftest import SECRET, Receiver, context, message, ref

N = notifier("telegram")


def settings(url: str = "http://127.0.0.1:9", **extra: Any) -> TelegramSettings:
    return TelegramSettings.model_validate(
        {"botTokenSecretRef": ref("token"), "chatId": "-100123", "apiUrl": url, **extra}
    )


@pytest.mark.parametrize(
    ("extra", "fields"),
    [
        ({}, {"chat_id": "-100123", "disable_notification": False}),
        (
            {"messageThreadId": 42, "disableNotification": True},
            {"message_thread_id": 42, "disable_notification": True},
        ),
    ],
    ids=["plain", "topic-and-silent"],
)
def test_payload(extra: dict[str, Any], fields: dict[str, Any]) -> None:
    body = payload(message(), settings(**extra))
    assert {k: body[k] for k in fields} == fields
    assert body["text"] == "checkout is DOWN\nshop/checkout is DOWN: HTTP 500 <oops> & more"
    assert "parse_mode" not in body  # plain text: no markup in a reason can break it


def test_send_calls_the_bot_api(receiver: Receiver) -> None:
    receiver.default = (200, {"ok": True, "result": {"message_id": 1}})
    N.send(message(), settings(receiver.url), context(token=SECRET))
    assert receiver.last.path == f"/bot{SECRET}/sendMessage" and receiver.last.json["chat_id"] == "-100123"


def test_probe_asks_get_me_and_get_chat(receiver: Receiver) -> None:
    receiver.default = (200, {"ok": True, "result": {}})
    assert N.probe(settings(receiver.url), context(token=SECRET)) is True
    assert [r.path.rsplit("/", 1)[1] for r in receiver.requests] == ["getMe", "getChat"]


@pytest.mark.parametrize(
    ("answer", "permanent", "text"),
    [
        ((401, {"ok": False, "description": "Unauthorized"}), True, "Unauthorized"),
        ((400, {"ok": False, "description": "Bad Request: chat not found"}), True, "chat not found"),
        ((429, {"ok": False, "description": "Too Many Requests: retry after 5"}), False, "Too Many Requests"),
        ((502, b"bad gateway"), False, "answered 502"),
    ],
    ids=["bad-token", "unknown-chat", "rate-limited", "gateway"],
)
def test_errors(receiver: Receiver, answer: tuple[int, Any], permanent: bool, text: str) -> None:
    receiver.answer(answer)
    with pytest.raises(NotifierError) as err:
        N.send(message(), settings(receiver.url), context(token=SECRET))
    assert err.value.permanent is permanent and text in str(err.value) and SECRET not in str(err.value)
