"""Mattermost: Slack-style attachments to an incoming webhook from a Secret."""

from __future__ import annotations

from typing import Any

import pytest

from app.notifiers import NotifierError, notifier
from app.notifiers.mattermost import MattermostSettings, payload
from tests.notifiers.conftest import Receiver, context, message, ref

N = notifier("mattermost")


@pytest.mark.parametrize(
    ("extra", "fields"),
    [
        ({}, {}),
        (
            {"channel": "town-square", "username": "kuma", "iconUrl": "https://i/x.png"},
            {"channel": "town-square", "username": "kuma", "icon_url": "https://i/x.png"},
        ),
    ],
    ids=["webhook-defaults", "overrides"],
)
def test_payload(extra: dict[str, Any], fields: dict[str, str]) -> None:
    s = MattermostSettings.model_validate({"webhookUrlSecretRef": ref("url"), **extra})
    body = payload(message(), s)
    att = body["attachments"][0]
    assert att["title"] == "checkout is DOWN" and att["color"] == "#d63031"
    assert att["title_link"] == "https://shop.example/health"
    assert {k: body[k] for k in fields} == fields


def test_send_and_errors(receiver: Receiver) -> None:
    s = MattermostSettings.model_validate({"webhookUrlSecretRef": ref("url")})
    ctx = context(url=receiver.url + "/hooks/xyz")
    N.send(message(), s, ctx)
    assert receiver.last.path == "/hooks/xyz"
    receiver.answer((400, b"Unable to parse incoming data"))
    with pytest.raises(NotifierError) as err:
        N.send(message(), s, ctx)
    assert err.value.permanent and "Unable to parse" in str(err.value)
