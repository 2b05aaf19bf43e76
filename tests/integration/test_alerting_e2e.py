"""Alerting end to end: a real target, the whole system, a real webhook receiver standing in for the chat.

Embedded (SQLite with the in-memory broker, and PostgreSQL with Redis): a target goes
200 -> 500 -> 200 and the chat gets exactly one DOWN and one UP; a receiver that answers
500 twice gets the next DOWN exactly once; under a Silence it gets nothing and the API
shows why. Then the scaled-out processes: a worker killed with SIGKILL while the receiver
holds its request, and the message redelivered, does not produce a second message.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import requests
from dramatiq.brokers.redis import RedisBroker

from app.roles import Embedded
from tests.access import READER
from tests.conftest import REDIS_URL
from tests.integration import test_embedded, test_processes
from tests.integration.test_alerting_pipeline import WebhookReceiver
from tests.integration.test_embedded import MONITOR, wait_for
from tests.integration.test_processes import Cluster
from tests.targets import HttpTarget, http_target

ALERTING = """\
---
apiVersion: kubekuma.io/v1alpha1
kind: NotificationProvider
metadata: {{name: chat, namespace: shop}}
spec: {{type: webhook, webhook: {{url: "{url}"}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: NotificationPolicy
metadata: {{name: oncall, namespace: shop}}
spec: {{monitorSelector: {{matchLabels: {{team: payments}}}}, providers: [{{name: chat}}]}}
"""

SILENCE = """\
apiVersion: kubekuma.io/v1alpha1
kind: Silence
metadata: {{name: migration, namespace: shop}}
spec:
  matchers: [{{name: team, operator: "=", value: payments}}]
  startsAt: "{starts}"
  endsAt: "{ends}"
  comment: DB migration
"""


system, cluster = test_embedded.system, test_processes.cluster  # their fixtures, shared


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    yield r
    r.stop()


def deliveries(base_url: str, **params: str) -> list[dict[str, Any]]:
    try:
        r = requests.get(base_url + "api/v1/deliveries", params=params, timeout=3, headers=READER)
    except requests.RequestException:
        return []
    return list(reversed(r.json()["items"])) if r.status_code == 200 else []


def state(base_url: str, name: str = "web") -> str | None:
    try:
        r = requests.get(base_url + "api/v1/monitors", timeout=3, headers=READER)
    except requests.RequestException:
        return None
    if r.status_code != 200:  # e.g. 401 until the controller has loaded the reader's key
        return None
    items = r.json()["items"]
    return next((m["state"] for m in items if m["name"] == name), None)


def outage(base_url: str, target: HttpTarget) -> None:
    target.status = 500
    wait_for("DOWN", lambda: state(base_url) == "DOWN", timeout=20)
    target.status = 200
    wait_for("UP", lambda: state(base_url) == "UP", timeout=20)


def test_outages_reach_the_chat_exactly_once(
    system: tuple[Embedded, Path], receiver: WebhookReceiver
) -> None:
    sys_, folder = system
    url = sys_.url
    with http_target() as target:
        (folder / "web.yaml").write_text(
            MONITOR.format(name="web", interval="1s", url=target.url + "/health")
            + ALERTING.format(url=receiver.url)
        )
        wait_for("web UP", lambda: state(url) == "UP", timeout=20)

        # 200 -> 500 -> 200: one DOWN, one UP, with text a person can act on.
        outage(url, target)
        wait_for("DOWN and UP", lambda: len(receiver.bodies) >= 2)
        assert receiver.titles() == ["🔴 web is DOWN", "✅ web is UP"]
        down, up = receiver.bodies
        assert down["message"].startswith("shop/web is DOWN: ") and "500" in down["reason"]
        assert down["message"].endswith(f"\n{target.url}/health")
        assert up["message"].startswith("shop/web is UP again after ")
        assert [(d["event"], d["status"], d["attempts"]) for d in deliveries(url)] == [
            ("down", "sent", 1),
            ("up", "sent", 1),
        ]

        # The receiver refuses twice during an outage: the DOWN arrives once, on the third attempt.
        receiver.statuses = [500, 500]
        target.status = 500
        wait_for("the third attempt", lambda: receiver.events().count("down") == 4, timeout=20)
        target.status = 200
        wait_for("the retried DOWN and the UP", lambda: len(deliveries(url, status="sent")) == 4, timeout=20)
        assert receiver.events() == ["down", "up", "down", "down", "down", "up"]  # the UP waited its turn
        retried = deliveries(url, event="down")[-1]
        assert retried["attempts"] == 3 and "answered 500" in retried["lastError"]

        # The receiver refuses until the outage is over: the stale DOWN is never sent, nor is an UP
        # for an outage the chat never heard of; the API says why.
        receiver.statuses = [500] * 1000
        target.status = 500
        wait_for("a refused attempt", lambda: receiver.events().count("down") == 5, timeout=20)
        target.status = 200
        wait_for("UP", lambda: state(url) == "UP", timeout=20)
        stale = wait_for("the DOWN superseded", lambda: deliveries(url, status="superseded"), timeout=20)
        assert [d["event"] for d in stale] == ["down"] and "was over" in stale[0]["reason"]
        (lone,) = wait_for("the UP suppressed", lambda: deliveries(url, status="suppressed"), timeout=20)
        assert (lone["event"], lone["reason"]) == (
            "up",
            "no DOWN notice of this incident reached this provider",
        )
        receiver.statuses = []
        seen = len(receiver.bodies)
        assert receiver.events()[-1] == "down"  # the refused attempt; nothing after it

        # Under a Silence: nothing reaches the chat, and the API says why.
        now = datetime.now(UTC)
        (folder / "silence.yaml").write_text(
            SILENCE.format(
                starts=(now - timedelta(minutes=1)).isoformat(), ends=(now + timedelta(hours=1)).isoformat()
            )
        )
        wait_for("the silence loaded", lambda: sys_.parts.store.resources.get("Silence", "shop", "migration"))
        time.sleep(1.2)  # the alert cache follows the resource cache within a second
        outage(url, target)
        muted = wait_for("two silenced", lambda: deliveries(url, status="suppressed")[2:], timeout=20)
        assert [d["event"] for d in deliveries(url, status="suppressed")] == ["up", "down", "up"]
        assert muted[0]["reason"].startswith("silenced by shop/migration until ")
        assert muted[0]["reason"].endswith(": DB migration")
        assert len(receiver.bodies) == seen


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_sends_no_second_message(
    cluster: tuple[Cluster, Path, str], receiver: WebhookReceiver, redis_ns: str
) -> None:
    c, manifests, url = cluster
    with http_target() as web, http_target() as api:
        (manifests / "web.yaml").write_text(
            MONITOR.format(name="web", interval="1s", url=web.url + "/health")
            + "---\n"
            + MONITOR.format(name="api", interval="1s", url=api.url)
            + ALERTING.format(url=receiver.url)
        )
        for role in ("controller", "scheduler", "web"):
            c.start(role, role)
        c.start("worker-1", "worker")
        wait_for("both UP through the processes", lambda: state(url) == state(url, "api") == "UP", timeout=45)

        receiver.holding = True  # the chat takes the DOWN and keeps the sender waiting
        web.status = 500
        assert receiver.arrived.wait(30), "the DOWN never reached the receiver"
        c.procs["worker-1"].send_signal(signal.SIGKILL)
        c.procs["worker-1"].wait(5)
        receiver.hold.set()
        receiver.holding = False
        (row,) = wait_for("the delivery row", lambda: deliveries(url, event="down"))
        assert row["status"] == "sending" and row["attempts"] == 1  # the outcome is unknown

        # The broker hands the message to another worker (as Redis does with a dead worker's messages).
        c.start("worker-2", "worker")
        broker = RedisBroker(url=REDIS_URL, namespace=redis_ns)
        broker.enqueue(
            dramatiq.Message(
                queue_name="alerts", actor_name="deliver", args=(row["id"], None), kwargs={}, options={}
            )
        )
        api.status = 500  # a new outage elsewhere proves worker-2 delivers (after the redelivered message)
        wait_for("api's DOWN", lambda: receiver.titles()[-1:] == ["🔴 api is DOWN"], timeout=40)
        time.sleep(1.0)
        assert receiver.titles() == ["🔴 web is DOWN", "🔴 api is DOWN"]  # no second DOWN for web
        web_down = deliveries(url, event="down", monitor="web")[0]
        assert (web_down["status"], web_down["attempts"]) == ("sending", 1)
        broker.close()
        for proc in ("controller", "scheduler", "worker-2", "web"):
            assert c.procs[proc].poll() is None, f"{proc} died:\n{c.log(proc)[-2000:]}"
