"""ntfy: JSON publish to the server root, token or basic auth, /v1/health as the probe."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from app.notifiers import notifier, validate_settings
from app.notifiers.ntfy import NtfySettings, payload
from tests.notifiers.conftest import SECRET, Receiver, context, message, ref

N = notifier("ntfy")


def settings(url: str = "http://127.0.0.1:9", **extra: Any) -> NtfySettings:
    return NtfySettings.model_validate({"url": url, "topic": "kuma-alerts", **extra})


@pytest.mark.parametrize(
    ("event", "priority", "tags"),
    [("down", 4, ["rotating_light"]), ("up", 3, ["white_check_mark"]), ("certificateExpiring", 3, ["lock"])],
    ids=["down", "up", "certificate"],
)
def test_payload(event: str, priority: int, tags: list[str]) -> None:
    body = payload(message(event), settings())
    assert body["topic"] == "kuma-alerts" and body["priority"] == priority and body["tags"] == tags
    assert body["click"] == "https://shop.example/health"


@pytest.mark.parametrize(
    ("extra", "auth"),
    [
        ({}, None),
        ({"tokenSecretRef": ref("token")}, f"Bearer {SECRET}"),
        (
            {"username": "kuma", "passwordSecretRef": ref("password")},
            "Basic " + base64.b64encode(f"kuma:{SECRET}".encode()).decode(),
        ),
    ],
    ids=["anonymous", "token", "basic"],
)
def test_send_with_auth(receiver: Receiver, extra: dict[str, Any], auth: str | None) -> None:
    N.send(message(), settings(receiver.url, **extra), context(token=SECRET, password=SECRET))
    assert receiver.last.path == "/" and receiver.last.json["title"] == "checkout is DOWN"
    assert receiver.last.headers.get("Authorization") == auth


def test_probe(receiver: Receiver) -> None:
    receiver.answer((200, {"healthy": True}))
    assert N.probe(settings(receiver.url), context()) is True and receiver.last.path == "/v1/health"


def test_settings_problems() -> None:
    assert validate_settings("ntfy", {"topic": "bad topic!"})[0].startswith("spec.ntfy.topic:")
    assert (
        "username and passwordSecretRef go together"
        in validate_settings("ntfy", {"topic": "t", "username": "u"})[0]
    )
