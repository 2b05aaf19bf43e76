"""Matrix: a PUT with a transaction id from the delivery key (so resends are dropped by the server)."""

from __future__ import annotations

import pytest

from app.notifiers import NotifierError, notifier
from app.notifiers.matrix import MatrixSettings, payload, txn_id
from tests.notifiers.conftest import SECRET, Receiver, context, message, ref

N = notifier("matrix")


def settings(url: str = "http://127.0.0.1:9", notice: bool = True) -> MatrixSettings:
    return MatrixSettings.model_validate(
        {
            "homeserverUrl": url,
            "roomId": "!room:example.org",
            "accessTokenSecretRef": ref("token"),
            "notice": notice,
        }
    )


@pytest.mark.parametrize(
    ("notice", "msgtype"), [(True, "m.notice"), (False, "m.text")], ids=["notice", "text"]
)
def test_payload(notice: bool, msgtype: str) -> None:
    body = payload(message(), settings(notice=notice))
    assert body["msgtype"] == msgtype and body["format"] == "org.matrix.custom.html"
    assert (
        body["formatted_body"]
        == "<b>checkout is DOWN</b><br>shop/checkout is DOWN: HTTP 500 &lt;oops&gt; &amp; more"
    )


def test_same_delivery_same_transaction_id() -> None:
    assert txn_id(message()) == txn_id(message()) != txn_id(message(key="i:2:down/8"))


def test_send_and_probe(receiver: Receiver) -> None:
    ctx = context(token=SECRET)
    N.send(message(), settings(receiver.url), ctx)
    seen = receiver.last
    assert seen.method == "PUT" and seen.headers["Authorization"] == f"Bearer {SECRET}"
    assert (
        seen.path == f"/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/{txn_id(message())}"
    )
    receiver.answer((200, {"user_id": "@kuma:example.org"}), (200, {"joined_rooms": ["!room:example.org"]}))
    assert N.probe(settings(receiver.url), ctx) is True


def test_probe_fails_when_not_in_the_room(receiver: Receiver) -> None:
    receiver.answer((200, {"user_id": "@kuma:example.org"}), (200, {"joined_rooms": []}))
    with pytest.raises(NotifierError, match=r"has not joined !room:example\.org"):
        N.probe(settings(receiver.url), context(token=SECRET))
