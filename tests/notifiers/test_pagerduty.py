"""PagerDuty Events v2: trigger on DOWN, resolve on UP, tied by one dedup_key per monitor and alert."""

from __future__ import annotations

import pytest

from app.notifiers import NotifierError, notifier
from app.notifiers.pagerduty import PagerDutySettings, payload
from tests.notifiers.conftest import SECRET, Receiver, context, message, ref

N = notifier("pagerduty")

PAYLOAD = [
    pytest.param("down", "trigger", "kubekuma-0b6f", "critical", id="down-triggers"),
    pytest.param("reminder", "trigger", "kubekuma-0b6f", "critical", id="reminder-retriggers-the-same-alert"),
    pytest.param("up", "resolve", "kubekuma-0b6f", None, id="up-resolves-it"),
    pytest.param("flapping", "trigger", "kubekuma-0b6f-flapping", "warning", id="flapping-own-alert"),
    pytest.param("flappingEnded", "resolve", "kubekuma-0b6f-flapping", None, id="settled-resolves-flapping"),
    pytest.param("certificateExpiring", "trigger", "kubekuma-0b6f-certificate", "warning", id="certificate"),
]


@pytest.mark.parametrize(("event", "action", "dedup", "severity"), PAYLOAD)
def test_payload(event: str, action: str, dedup: str, severity: str | None) -> None:
    body = payload(message(event), "rk")
    assert body["event_action"] == action and body["dedup_key"] == dedup and body["routing_key"] == "rk"
    if severity is None:
        assert "payload" not in body
    else:
        p = body["payload"]
        assert p["severity"] == severity and p["source"] == "https://shop.example/health"
        assert p["component"] == "checkout" and p["group"] == "shop" and p["summary"] == message(event).title


def test_send_and_bad_key(receiver: Receiver) -> None:
    s = PagerDutySettings.model_validate(
        {"routingKeySecretRef": ref("key"), "eventsUrl": receiver.url + "/v2/enqueue"}
    )
    receiver.answer(
        (202, {"status": "success", "dedup_key": "kubekuma-0b6f"}),
        (400, {"status": "invalid event", "message": "Event object is invalid"}),
    )
    N.send(message(), s, context(key=SECRET))
    assert receiver.last.json["routing_key"] == SECRET
    with pytest.raises(NotifierError) as err:
        N.send(message(), s, context(key=SECRET))
    assert (
        err.value.permanent and "Event object is invalid" in str(err.value) and SECRET not in str(err.value)
    )
