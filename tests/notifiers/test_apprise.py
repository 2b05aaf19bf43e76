"""Apprise API: stateful (a key on the server) or stateless (URLs from a Secret); type by severity."""

from __future__ import annotations

from typing import Any

import pytest

from app.notifiers import NotifierError, notifier, validate_settings
from app.notifiers.apprise import AppriseSettings, payload
from tests.notifiers.conftest import Receiver, context, message, ref

N = notifier("apprise")


def settings(url: str = "http://127.0.0.1:9", **extra: Any) -> AppriseSettings:
    return AppriseSettings.model_validate({"url": url, **(extra or {"key": "kuma"})})


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ("down", "failure"),
        ("reminder", "failure"),
        ("up", "success"),
        ("flapping", "warning"),
        ("flappingEnded", "success"),
        ("certificateExpiring", "warning"),
    ],
    ids=["down", "reminder", "up", "flapping", "settled", "certificate"],
)
def test_payload_type(event: str, kind: str) -> None:
    assert payload(message(event), settings())["type"] == kind


def test_stateful_with_tag(receiver: Receiver) -> None:
    N.send(message(), settings(receiver.url, key="kuma", tag="ops"), context())
    assert receiver.last.path == "/notify/kuma" and receiver.last.json["tag"] == "ops"
    assert receiver.last.json["title"] == "checkout is DOWN" and receiver.last.json["format"] == "text"


def test_stateless_urls_from_a_secret(receiver: Receiver) -> None:
    N.send(
        message(), settings(receiver.url, urlsSecretRef=ref("urls")), context(urls="mailto://u:p@example.com")
    )
    assert receiver.last.path == "/notify/" and receiver.last.json["urls"] == "mailto://u:p@example.com"


def test_unknown_key_and_failed_fanout(receiver: Receiver) -> None:
    receiver.answer((204, b""), (424, {"error": "one or more notifications failed"}))
    with pytest.raises(NotifierError) as err:
        N.send(message(), settings(receiver.url), context())
    assert err.value.permanent and "no configuration under key 'kuma'" in str(err.value)
    with pytest.raises(NotifierError) as err:
        N.send(message(), settings(receiver.url), context())
    assert not err.value.permanent


def test_probe_and_settings(receiver: Receiver) -> None:
    assert N.probe(settings(receiver.url), context()) is True and receiver.last.path == "/"
    assert validate_settings("apprise", {"url": "http://x"}) == [
        "spec.apprise: give exactly one of key or urlsSecretRef"
    ]
