"""Alerting's periodic jobs: flapping, reminders, certificate warnings, lost deliveries, provider health."""

from __future__ import annotations

import re
from datetime import timedelta

from app.actors.periodic import DELIVERY_GRACE_S
from tests.integration import test_alerting_pipeline as pipeline
from tests.integration.test_alerting_pipeline import (
    MONITOR,
    PROVIDER,
    Harness,
    WebhookReceiver,
    policy,
    wait_for,
)

harness, receiver = pipeline.harness, pipeline.receiver  # the pipeline's fixtures, shared


def test_a_flapping_monitor_sends_one_notice_then_one_when_it_settles(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    harness.apply(
        MONITOR.format(name="checkout"),
        PROVIDER.format(name="chat", url=receiver.url),
        policy(triggers=["down", "up", "flapping"]),
    )
    harness.check("checkout", ok=True)
    for _ in range(5):  # ten state changes in a row: a storm
        harness.check("checkout", ok=False)
        harness.check("checkout", ok=True)
    wait_for("six messages", lambda: len(receiver.bodies) >= 6)
    assert receiver.events() == ["down", "up", "down", "up", "down", "flapping"]
    assert receiver.titles()[-1] == "⚠️ checkout is flapping"
    rows = harness.deliveries()
    assert [d.status for d in rows if d.event in ("up", "down")][5:] == ["suppressed"] * 5
    assert {d.last_error for d in rows[6:]} == {"flapping: up/down notices pause until it settles"}
    flapping = harness.store.resources.get("Monitor", "shop", "checkout").status["flapping"]  # type: ignore[union-attr]
    assert flapping["active"] is True and flapping["percent"] > 30

    assert harness.jobs.settle_flapping() == 0  # still unstable
    for _ in range(18):
        harness.check("checkout", ok=True)  # calm checks: no transitions
    assert harness.jobs.settle_flapping() == 1
    harness.settle()
    wait_for("the settled notice", lambda: len(receiver.bodies) == 7)
    assert receiver.events()[-1] == "flappingEnded" and receiver.bodies[-1]["state"] == "UP"
    assert harness.jobs.settle_flapping() == 0  # once


def test_reminders_while_down_per_policy(harness: Harness, receiver: WebhookReceiver) -> None:
    mail = PROVIDER.format(name="mail", url=receiver.url + "?to=mail").split("apiVersion: v1\n")[0]
    harness.apply(
        MONITOR.format(name="checkout"),
        PROVIDER.format(name="chat", url=receiver.url),
        mail,
        policy(repeatInterval="1m", priority=1, **{"continue": True}),
        policy(name="mail", provider="mail", repeatInterval="2m", priority=2),
    )
    harness.check("checkout", ok=True)
    harness.check("checkout", ok=False)
    assert harness.jobs.send_reminders() == 0  # not yet a minute
    harness.offset = timedelta(seconds=65)
    assert harness.jobs.send_reminders() == 1  # chat's first
    assert harness.jobs.send_reminders() == 0  # the same reminder only once
    harness.offset = timedelta(seconds=125)
    assert harness.jobs.send_reminders() == 2  # chat's second and mail's first
    harness.settle()
    wait_for("five messages", lambda: len(receiver.bodies) == 5)
    assert receiver.events() == ["down", "down", "reminder", "reminder", "reminder"]
    assert receiver.titles()[2] == "🔴 checkout is still DOWN"
    assert re.match(
        r"shop/checkout has been DOWN for 1m \d+s: HTTP 500 from /health", receiver.bodies[2]["message"]
    )
    harness.offset = timedelta(0)
    harness.check("checkout", ok=True)
    harness.offset = timedelta(minutes=10)
    assert harness.jobs.send_reminders() == 0  # closed: no more
    wait_for("the recoveries", lambda: receiver.events()[-2:] == ["up", "up"])


def test_an_acknowledged_incident_gets_no_reminders(harness: Harness, receiver: WebhookReceiver) -> None:
    harness.apply(
        MONITOR.format(name="checkout"),
        PROVIDER.format(name="chat", url=receiver.url),
        policy(repeatInterval="1m"),
    )
    harness.check("checkout", ok=True)
    harness.check("checkout", ok=False)
    harness.offset = timedelta(seconds=65)
    assert harness.jobs.send_reminders() == 1
    inc = harness.store.incidents.list(open_only=True)[0]
    harness.store.incidents.acknowledge(inc.id, "alice", harness.now())
    harness.offset = timedelta(seconds=185)
    assert harness.jobs.send_reminders() == 0, "acknowledged: reminders stop"


def test_certificate_warning_once_per_threshold(harness: Harness, receiver: WebhookReceiver) -> None:
    harness.apply(
        MONITOR.format(name="checkout"),
        PROVIDER.format(name="chat", url=receiver.url),
        policy(triggers=["certificateExpiring"]),
    )
    cert = {
        "expiresAt": "2024-06-01T00:00:00Z",
        "daysLeft": 6,
        "issuer": "R11",
        "sha256": "ab" * 32,
        "warn": 7,
    }
    harness.check("checkout", ok=True, cert=cert)
    assert harness.jobs.warn_certificates() == 1
    harness.check("checkout", ok=True, cert=cert)
    assert harness.jobs.warn_certificates() == 0
    harness.check("checkout", ok=True, cert={**cert, "daysLeft": 1, "warn": 1})
    assert harness.jobs.warn_certificates() == 1
    renewed = {k: v for k, v in cert.items() if k != "warn"} | {"daysLeft": 80, "sha256": "cd" * 32}
    harness.check("checkout", ok=True, cert=renewed)  # no threshold crossed: no warning
    assert harness.jobs.warn_certificates() == 0
    harness.settle()
    wait_for("two warnings", lambda: len(receiver.bodies) == 2)
    assert receiver.titles() == [
        "⚠️ Certificate of checkout expires in 6 days",
        "⚠️ Certificate of checkout expires in 1 day",
    ]
    assert receiver.bodies[0]["details"] == {
        "daysLeft": 6,
        "expiresAt": "2024-06-01T00:00:00Z",
        "issuer": "R11",
    }


def test_lost_pending_deliveries_are_sent_again(harness: Harness, receiver: WebhookReceiver) -> None:
    harness.apply(PROVIDER.format(name="chat", url=receiver.url), MONITOR.format(name="checkout"))
    provider = harness.uid("chat", "NotificationProvider")
    harness.store.deliveries.create(
        "k:lost",
        provider,
        harness.uid("checkout"),
        "down",
        "pending",
        "lost title",
        "lost body",
        harness.now(),
    )
    assert harness.jobs.sweep_deliveries() == 0  # young: its message may still be queued
    harness.offset = timedelta(seconds=DELIVERY_GRACE_S + 5)
    assert harness.jobs.sweep_deliveries() == 1
    harness.settle()
    wait_for("the lost message", lambda: receiver.titles() == ["lost title"])
    assert receiver.bodies[0]["state"] == "DOWN" and receiver.bodies[0]["monitor"]["name"] == "checkout"


def test_provider_health_is_probed_and_kept_in_status(harness: Harness, receiver: WebhookReceiver) -> None:
    discord = f"""\
apiVersion: kubekuma.io/v1alpha1
kind: NotificationProvider
metadata: {{name: discord, namespace: shop}}
spec: {{type: discord, discord: {{webhookUrlSecretRef: {{name: discord, key: url}}}}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: discord, namespace: shop}}
stringData: {{url: "{receiver.url}/api/webhooks/1/t0k3n"}}
---
apiVersion: kubekuma.io/v1alpha1
kind: NotificationProvider
metadata: {{name: broken, namespace: shop}}
spec: {{type: telegram, telegram: {{botTokenSecretRef: {{name: missing}}, chatId: "1"}}}}
---
"""
    harness.apply(PROVIDER.format(name="chat", url=receiver.url), discord)
    assert harness.jobs.probe_providers() == 3
    harness.settle()

    def status(name: str) -> dict:  # type: ignore[type-arg]
        return harness.store.resources.get("NotificationProvider", "shop", name).status  # type: ignore[union-attr]

    assert (status("discord")["healthy"], status("discord")["test"], status("discord")["lastError"]) == (
        True,
        "connectivity",
        "",
    )
    assert (status("chat")["healthy"], status("chat")["test"]) == (True, "configuration")
    assert status("broken")["healthy"] is False
    assert status("broken")["lastError"] == "spec.telegram.botTokenSecretRef: Secret shop/missing not found"
    assert {c["type"] for c in status("discord")["conditions"]} == {"Valid", "Reconciled", "Ready"}
    assert "t0k3n" not in str(status("discord"))
    assert receiver.bodies == []  # probing sent no message
    assert harness.jobs.probe_providers() == 0  # tested a moment ago
    harness.offset = timedelta(minutes=11)
    assert harness.jobs.probe_providers() == 3
