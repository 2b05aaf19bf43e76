"""Opsgenie Alert API: create with an alias on DOWN, close by alias on UP."""

from __future__ import annotations

from typing import Any

import pytest

from app.notifiers import NotifierError, notifier
from app.notifiers.opsgenie import OpsgenieSettings, close_payload, create_payload
from tests.notifiers.conftest import SECRET, Receiver, context, message, ref

N = notifier("opsgenie")


def settings(url: str = "http://127.0.0.1:9", **extra: Any) -> OpsgenieSettings:
    return OpsgenieSettings.model_validate({"apiKeySecretRef": ref("key"), "apiUrl": url, **extra})


@pytest.mark.parametrize(
    ("event", "extra", "priority", "tags"),
    [
        ("down", {}, "P2", ["event:down"]),
        ("certificateExpiring", {}, "P4", ["event:certificateExpiring"]),
        ("down", {"priority": "P1", "tags": ["shop"]}, "P1", ["shop", "event:down"]),
    ],
    ids=["down", "certificate-low-priority", "configured"],
)
def test_create_payload(event: str, extra: dict[str, Any], priority: str, tags: list[str]) -> None:
    body = create_payload(message(event), settings(**extra))
    assert body["priority"] == priority and body["tags"] == tags and body["entity"] == "shop/checkout"
    assert body["alias"] == message(event).alert_key and body["details"]["team"] == "payments"


def test_down_creates_and_up_closes(receiver: Receiver) -> None:
    receiver.default = (202, {"result": "Request will be processed", "requestId": "r"})
    ctx = context(key=SECRET)
    N.send(message("down"), settings(receiver.url), ctx)
    assert (
        receiver.last.path == "/v2/alerts" and receiver.last.headers["Authorization"] == f"GenieKey {SECRET}"
    )
    N.send(message("up"), settings(receiver.url), ctx)
    assert receiver.last.path == "/v2/alerts/kubekuma-0b6f/close"
    assert receiver.last.query == {"identifierType": ["alias"]} and receiver.last.json == close_payload(
        message("up")
    )


def test_bad_key_is_permanent(receiver: Receiver) -> None:
    receiver.answer((403, {"message": "Key format is not valid!"}))
    with pytest.raises(NotifierError) as err:
        N.send(message(), settings(receiver.url), context(key=SECRET))
    assert err.value.permanent and "check the credentials" in str(err.value)
