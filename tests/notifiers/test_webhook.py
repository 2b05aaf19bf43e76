"""Webhook: the JSON it posts, the signature a receiver can verify, and how failures are classified."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest

from app.notifiers import NotifierError, notifier, validate_settings
from app.notifiers.webhook import payload
from tests.notifiers.conftest import SECRET, Receiver, closed_port, context, message, ref

N = notifier("webhook")

PAYLOAD = [
    pytest.param(
        message("down"),
        {"event": "down", "state": "DOWN", "previousState": "UP", "reason": "HTTP 500"},
        id="down",
    ),
    pytest.param(
        message("up", previous_state="DOWN"), {"event": "up", "state": "UP", "previousState": "DOWN"}, id="up"
    ),
    pytest.param(
        message("certificateExpiring", extra={"daysLeft": 6}),
        {"details": {"daysLeft": 6}},
        id="certificate-details",
    ),
    pytest.param(message("down", previous_state=""), {"previousState": None}, id="new-monitor-no-previous"),
]


@pytest.mark.parametrize(("msg", "subset"), PAYLOAD)
def test_payload(msg: Any, subset: dict[str, Any]) -> None:
    body = payload(msg)
    assert {k: body[k] for k in subset} == subset
    assert body["monitor"] == {
        "name": "checkout",
        "namespace": "shop",
        "uid": "0b6f",
        "url": "https://shop.example/health",
        "labels": {"team": "payments"},
    }
    assert body["time"] == "2024-05-01T12:00:05Z" and body["key"] == msg.key


def test_posts_signed_json_with_headers_from_secrets(receiver: Receiver) -> None:
    ctx = context(sign=SECRET, auth="Bearer abc123")
    s = N.parse(
        {
            "url": receiver.url + "/hook",
            "signingSecretRef": ref("sign"),
            "headers": [
                {"name": "X-Team", "value": "payments"},
                {"name": "Authorization", "valueFrom": {"secretKeyRef": ref("auth")}},
            ],
        }
    )
    N.send(message(), s, ctx)
    seen = receiver.last
    assert seen.method == "POST" and seen.path == "/hook"
    assert seen.json["title"] == "checkout is DOWN" and seen.json["message"].startswith(
        "shop/checkout is DOWN"
    )
    assert seen.headers["X-Team"] == "payments" and seen.headers["Authorization"] == "Bearer abc123"
    assert seen.headers["X-KubeKuma-Event"] == "down" and seen.headers["X-KubeKuma-Delivery"] == "i:1:down/7"
    expected = "sha256=" + hmac.new(SECRET.encode(), seen.body, hashlib.sha256).hexdigest()
    assert seen.headers["X-KubeKuma-Signature"] == expected


def test_url_from_a_secret_and_put(receiver: Receiver) -> None:
    s = N.parse({"urlSecretRef": ref("url"), "method": "PUT"})
    N.send(message(), s, context(url=receiver.url + "/x"))
    assert receiver.last.method == "PUT" and "X-KubeKuma-Signature" not in receiver.last.headers


ERRORS = [
    pytest.param((500, {"error": "boom"}), False, 'answered 500: {"error": "boom"}', id="5xx-is-transient"),
    pytest.param((429, {}), False, "answered 429", id="rate-limit-is-transient"),
    pytest.param((401, {}), True, "check the credentials", id="401-is-permanent"),
    pytest.param((404, {}), True, "answered 404", id="404-is-permanent"),
    pytest.param((301, {}), True, "a redirect", id="redirect-is-permanent"),
]


@pytest.mark.parametrize(("answer", "permanent", "text"), ERRORS)
def test_failures_are_classified(
    receiver: Receiver, answer: tuple[int, Any], permanent: bool, text: str
) -> None:
    receiver.answer(answer)
    with pytest.raises(NotifierError) as err:
        N.send(message(), N.parse({"url": receiver.url + "/hook"}), context())
    assert err.value.permanent is permanent
    assert text in str(err.value)


def test_refused_connection_is_transient_and_names_only_the_host() -> None:
    ctx = context(url=closed_port() + "/path/with/" + SECRET)
    with pytest.raises(NotifierError) as err:
        N.send(message(), N.parse({"urlSecretRef": ref("url")}), ctx)
    assert not err.value.permanent
    assert "cannot connect to http://127.0.0.1:" in str(err.value) and SECRET not in str(err.value)


def test_a_secret_echoed_back_is_scrubbed(receiver: Receiver) -> None:
    receiver.answer((400, {"error": f"bad signature with key {SECRET}"}))
    with pytest.raises(NotifierError) as err:
        N.send(
            message(), N.parse({"url": receiver.url, "signingSecretRef": ref("sign")}), context(sign=SECRET)
        )
    assert SECRET not in str(err.value) and "***" in str(err.value)


def test_missing_secret_is_permanent_and_named() -> None:
    with pytest.raises(NotifierError) as err:
        N.send(message(), N.parse({"urlSecretRef": {"name": "nope", "key": "url"}}), context())
    assert err.value.permanent and "spec.webhook.urlSecretRef: Secret shop/nope not found" in str(err.value)


def test_no_silent_probe() -> None:
    assert N.probe(N.parse({"url": "http://127.0.0.1:9/"}), context()) is False


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({}, "give exactly one of url or urlSecretRef"),
        ({"url": "http://x", "method": "GET"}, "spec.webhook.method"),
        ({"url": "http://x", "bogus": 1}, "spec.webhook.bogus: Extra inputs are not permitted"),
    ],
    ids=["no-url", "bad-method", "unknown-field"],
)
def test_settings_problems_name_the_field(settings: dict[str, Any], problem: str) -> None:
    assert any(problem in p for p in validate_settings("webhook", settings))
