"""Microsoft Teams: an Adaptive Card to a Workflows webhook from a Secret."""

from __future__ import annotations

import pytest

from app.notifiers import NotifierError, notifier
from app.notifiers.teams import TeamsSettings, payload
from tests.notifiers.conftest import Receiver, context, message, ref

N = notifier("teams")
S = TeamsSettings.model_validate({"webhookUrlSecretRef": ref("url")})


@pytest.mark.parametrize(
    ("msg", "color", "facts", "action"),
    [
        (message("down"), "Attention", ["Monitor", "State", "Reason"], True),
        (message("up", reason="", url="db:5432"), "Good", ["Monitor", "State"], False),
    ],
    ids=["down-with-reason-and-link", "up-without"],
)
def test_payload(msg: object, color: str, facts: list[str], action: bool) -> None:
    body = payload(msg)  # type: ignore[arg-type]
    att = body["attachments"][0]
    card = att["content"]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive" and card["type"] == "AdaptiveCard"
    assert card["body"][0]["color"] == color and card["body"][0]["text"] == msg.title  # type: ignore[attr-defined]
    assert [f["title"] for f in card["body"][2]["facts"]] == facts
    assert ("actions" in card) is action


def test_send(receiver: Receiver) -> None:
    receiver.default = (202, b"")
    N.send(message(), S, context(url=receiver.url + "/workflows/abc"))
    assert receiver.last.path == "/workflows/abc" and receiver.last.json["type"] == "message"


def test_throttled_is_transient(receiver: Receiver) -> None:
    receiver.answer((429, b"throttled"))
    with pytest.raises(NotifierError) as err:
        N.send(message(), S, context(url=receiver.url + "/workflows/abc"))
    assert not err.value.permanent
