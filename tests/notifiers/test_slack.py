"""Slack: an incoming webhook from a Secret; escaped text, colour by severity, overrides."""

from __future__ import annotations

from typing import Any

import pytest

from app.notifiers import NotifierError, notifier
from app.notifiers.slack import SlackSettings, payload
from tests.notifiers.conftest import SECRET, Receiver, context, message, ref

N = notifier("slack")
S = SlackSettings.model_validate({"webhookUrlSecretRef": ref("url")})

PAYLOAD = [
    pytest.param(message("down"), S, "#d63031", {}, id="down-red"),
    pytest.param(message("up"), S, "#00b894", {}, id="up-green"),
    pytest.param(message("flapping"), S, "#fdcb6e", {}, id="flapping-yellow"),
    pytest.param(
        message("down"),
        SlackSettings.model_validate(
            {"webhookUrlSecretRef": ref("url"), "channel": "#ops", "username": "kuma", "iconEmoji": ":fire:"}
        ),
        "#d63031",
        {"channel": "#ops", "username": "kuma", "icon_emoji": ":fire:"},
        id="overrides",
    ),
]


@pytest.mark.parametrize(("msg", "s", "color", "extra"), PAYLOAD)
def test_payload(msg: Any, s: SlackSettings, color: str, extra: dict[str, str]) -> None:
    body = payload(msg, s)
    assert body["attachments"][0]["color"] == color
    assert {k: body[k] for k in extra} == extra
    assert body["attachments"][0]["text"] == "shop/checkout is DOWN: HTTP 500 &lt;oops&gt; &amp; more"
    assert body["attachments"][0]["footer"] == "KubeKuma · shop/checkout"


def test_posts_to_the_webhook_from_the_secret(receiver: Receiver) -> None:
    N.send(message(), S, context(url=receiver.url + "/services/T0/B0/" + SECRET))
    assert (
        receiver.last.path == f"/services/T0/B0/{SECRET}" and receiver.last.json["text"] == "checkout is DOWN"
    )


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(403, True), (404, True), (500, False), (503, False)],
    ids=["invalid-token", "no-service", "server-error", "unavailable"],
)
def test_errors_never_show_the_webhook_path(receiver: Receiver, status: int, permanent: bool) -> None:
    receiver.answer((status, b"invalid_token"))
    with pytest.raises(NotifierError) as err:
        N.send(message(), S, context(url=receiver.url + "/services/" + SECRET))
    assert (
        err.value.permanent is permanent
        and SECRET not in str(err.value)
        and "invalid_token" in str(err.value)
    )
