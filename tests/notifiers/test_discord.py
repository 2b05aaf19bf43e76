"""Discord: one embed per message, mentions disabled; GET on the webhook is the silent probe."""

from __future__ import annotations

import pytest

from app.notifiers import NotifierError, notifier
from app.notifiers.discord import DiscordSettings, payload
from tests.notifiers.conftest import Receiver, context, message, ref

N = notifier("discord")
S = DiscordSettings.model_validate({"webhookUrlSecretRef": ref("url"), "username": "KubeKuma"})


@pytest.mark.parametrize(
    ("event", "color", "url"),
    [
        ("down", 0xD63031, "https://shop.example/health"),
        ("up", 0x00B894, None),
        ("certificateExpiring", 0xFDCB6E, None),
    ],
    ids=["down", "up", "certificate"],
)
def test_payload(event: str, color: int, url: str | None) -> None:
    msg = message(event, url="https://shop.example/health" if url else "shop:443")
    body = payload(msg, S)
    embed = body["embeds"][0]
    assert embed["color"] == color and embed["title"] == msg.title and embed.get("url") == url
    assert body["allowed_mentions"] == {"parse": []} and body["username"] == "KubeKuma"


def test_long_text_is_cut_to_discord_limits() -> None:
    embed = payload(message(title="t" * 300, body="b" * 5000), S)["embeds"][0]
    assert len(embed["title"]) == 256 and len(embed["description"]) == 4096


def test_send_and_probe(receiver: Receiver) -> None:
    ctx = context(url=receiver.url + "/api/webhooks/1/tok")
    N.send(message(), S, ctx)
    assert receiver.last.method == "POST" and receiver.last.json["embeds"][0]["title"] == "checkout is DOWN"
    assert N.probe(S, ctx) is True
    assert receiver.last.method == "GET" and receiver.last.path == "/api/webhooks/1/tok"


def test_deleted_webhook_fails_the_probe_permanently(receiver: Receiver) -> None:
    receiver.answer((404, {"message": "Unknown Webhook", "code": 10015}))
    with pytest.raises(NotifierError) as err:
        N.probe(S, context(url=receiver.url + "/api/webhooks/1/tok"))
    assert err.value.permanent and "Unknown Webhook" in str(err.value)
