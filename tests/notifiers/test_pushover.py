"""Pushover: form-encoded messages with both keys from Secrets; users/validate as the probe."""

from __future__ import annotations

from typing import Any

import pytest

from app.notifiers import NotifierError, notifier
from app.notifiers.pushover import PushoverSettings, payload
from tests.notifiers.conftest import Receiver, context, message, ref

N = notifier("pushover")


def settings(url: str = "http://127.0.0.1:9", **extra: Any) -> PushoverSettings:
    return PushoverSettings.model_validate(
        {"userKeySecretRef": ref("user"), "apiTokenSecretRef": ref("token"), "apiUrl": url, **extra}
    )


@pytest.mark.parametrize(
    ("event", "extra", "fields"),
    [
        ("down", {}, {"priority": 1}),
        ("up", {}, {"priority": 0}),
        ("down", {"priority": 2}, {"priority": 2, "retry": 60, "expire": 3600}),
        ("up", {"priority": -1, "sound": "siren"}, {"priority": -1, "sound": "siren"}),
    ],
    ids=["down-high", "up-normal", "emergency-needs-retry-and-expire", "quiet-with-sound"],
)
def test_payload(event: str, extra: dict[str, Any], fields: dict[str, Any]) -> None:
    body = payload(message(event), settings(**extra))
    assert {k: body[k] for k in fields} == fields
    assert body["url"] == "https://shop.example/health" and body["timestamp"] == 1714564805


def test_send_and_probe(receiver: Receiver) -> None:
    ctx = context(user="u-key", token="a-token")
    receiver.default = (200, {"status": 1, "request": "r"})
    N.send(message(), settings(receiver.url), ctx)
    form = receiver.last.form
    assert receiver.last.path == "/1/messages.json" and form["token"] == "a-token" and form["user"] == "u-key"
    assert form["title"] == "checkout is DOWN"
    assert N.probe(settings(receiver.url), ctx) is True and receiver.last.path == "/1/users/validate.json"


def test_invalid_user_key_is_permanent(receiver: Receiver) -> None:
    receiver.answer((400, {"user": "invalid", "errors": ["user identifier is invalid"], "status": 0}))
    with pytest.raises(NotifierError) as err:
        N.probe(settings(receiver.url), context(user="u-key", token="a-token"))
    assert err.value.permanent and "user identifier is invalid" in str(err.value)
