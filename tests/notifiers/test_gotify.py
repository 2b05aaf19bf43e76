"""Gotify: /message with the app token in a header; priority by severity; /health as the probe."""

from __future__ import annotations

import pytest

from app.notifiers import NotifierError, notifier
from app.notifiers.gotify import GotifySettings, payload
from tests.notifiers.conftest import SECRET, Receiver, context, message, ref

N = notifier("gotify")


def settings(url: str = "http://127.0.0.1:9", priority: int = 8) -> GotifySettings:
    return GotifySettings.model_validate({"url": url, "tokenSecretRef": ref("token"), "priority": priority})


@pytest.mark.parametrize(
    ("event", "priority", "expected"),
    [("down", 8, 8), ("reminder", 8, 8), ("up", 8, 5), ("flapping", 2, 0)],
    ids=["down-full-priority", "reminder-full-priority", "up-lower", "never-below-zero"],
)
def test_payload_priority(event: str, priority: int, expected: int) -> None:
    body = payload(message(event), settings(priority=priority))
    assert body["priority"] == expected and body["title"] == message(event).title
    assert body["extras"]["client::notification"] == {"click": {"url": "https://shop.example/health"}}


def test_send_and_probe(receiver: Receiver) -> None:
    ctx = context(token=SECRET)
    N.send(message(), settings(receiver.url + "/gotify/"), ctx)
    assert receiver.last.path == "/gotify/message" and receiver.last.headers["X-Gotify-Key"] == SECRET
    receiver.answer((200, {"health": "green", "database": "green"}))
    assert N.probe(settings(receiver.url), ctx) is True and receiver.last.path == "/health"


def test_unhealthy_server_and_bad_token(receiver: Receiver) -> None:
    receiver.answer((200, {"health": "orange"}), (401, {"error": "Unauthorized"}))
    with pytest.raises(NotifierError, match="health is 'orange'"):
        N.probe(settings(receiver.url), context(token=SECRET))
    with pytest.raises(NotifierError) as err:
        N.send(message(), settings(receiver.url), context(token=SECRET))
    assert err.value.permanent
