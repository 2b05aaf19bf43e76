"""The alerting pipeline on a real store (SQLite and PostgreSQL) with real actors and a real receiver.

A harness loads manifests like the folder controller does, records check results through
the real store and state machine, and runs `handle_transition` and `deliver` on a Dramatiq
worker; a webhook receiver on 127.0.0.1 shows what a team would see in its chat.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from pony.orm import db_session

from app.actors import register_actors
from app.actors.alerts import AlertCache, register_alert_actors
from app.actors.broker import ALERT_QUEUE, TRANSITION_QUEUE, make_broker
from app.actors.periodic import Housekeeping
from app.actors.runtime import Runtime
from app.alerting.state import RetryPolicy, next_state
from app.catalog import Catalog
from app.controller.folder import FolderController
from app.coord import LocalGuard, start_beating
from app.model import CheckResult, FailureClass
from app.resources.loader import SecretStore
from app.store import Store


def wait_for(what: str, cond: Callable[[], Any], timeout: float = 10.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class WebhookReceiver:
    """A chat stand-in: records every POST; answers with queued statuses; can hold a request open."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.accepted: list[dict[str, Any]] = []  # the bodies answered 2xx: what the chat shows
        self.headers: list[dict[str, str]] = []
        self.statuses: list[int] = []  # answers to give, in order; then 200
        self.hold = threading.Event()  # while clear and `holding`, requests wait before answering
        self.holding = False
        self.arrived = threading.Event()
        rec = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                rec.bodies.append(json.loads(body))
                rec.headers.append(dict(self.headers))
                rec.arrived.set()
                if rec.holding:
                    rec.hold.wait(30)
                status = rec.statuses.pop(0) if rec.statuses else 200
                if status < 300:
                    rec.accepted.append(json.loads(body))
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender died while we held its request

            def do_GET(self) -> None:  # a provider probe
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def titles(self) -> list[str]:
        return [b["title"] for b in self.bodies]

    def events(self) -> list[str]:
        return [b["event"] for b in self.bodies]

    def stop(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


MONITOR = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: {name}, namespace: shop, labels: {{team: payments}}}}
spec: {{type: http, interval: 60s, http: {{url: "https://checkout.shop.example/health"}}}}
---
"""

PROVIDER = """\
apiVersion: kubekuma.io/v1alpha1
kind: NotificationProvider
metadata: {{name: {name}, namespace: shop}}
spec:
  type: webhook
  webhook: {{url: "{url}", signingSecretRef: {{name: hook, key: key}}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: hook, namespace: shop}}
stringData: {{key: not-so-secret-signing-key}}
---
"""

POLICY = """\
apiVersion: kubekuma.io/v1alpha1
kind: NotificationPolicy
metadata: {{name: {name}, namespace: shop}}
spec:
  monitorSelector: {{matchLabels: {{team: payments}}}}
  providers: [{{name: {provider}}}]
{extra}
---
"""


def policy(name: str = "oncall", provider: str = "chat", **spec: Any) -> str:
    extra = "\n".join(f"  {k}: {json.dumps(v)}" for k, v in spec.items())
    return POLICY.format(name=name, provider=provider, extra=extra)


class Harness:
    def __init__(self, db_url: str, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(exist_ok=True)
        self.offset = timedelta(0)  # moves the clock the actors see
        self.store = Store(db_url)
        self.secrets = SecretStore()
        self.controller = FolderController(folder, self.store, self.secrets)
        self.catalog = Catalog(self.store, ttl=0.0)
        self.broker = make_broker(None)
        self.rt = Runtime(self.store, self.catalog, self.secrets, LocalGuard(), clock=self.now)
        self.alerts = register_alert_actors(self.broker, self.rt, AlertCache(self.store, ttl=0.0))
        self.rt.in_maintenance = self.alerts.in_maintenance
        self.actors = register_actors(self.broker, self.rt, hooks=[self.alerts.on_transition])
        self.jobs = Housekeeping(self.actors, self.alerts)
        self.stop = threading.Event()
        start_beating(self.rt.liveness, self.rt.identity, self.stop)  # as a worker process does
        self.worker = dramatiq.Worker(
            self.broker, queues={TRANSITION_QUEUE, ALERT_QUEUE}, worker_threads=2, worker_timeout=20
        )
        self.worker.start()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def apply(self, *docs: str) -> None:
        (self.folder / "all.yaml").write_text("".join(docs))
        self.controller.reconcile(force=True)

    def uid(self, name: str, kind: str = "Monitor") -> str:
        rec = self.store.resources.get(kind, "shop", name)
        assert rec is not None, f"no {kind} shop/{name}"
        return rec.uid

    def check(
        self, name: str, ok: bool, reason: str = "HTTP 500 from /health", send: bool = True,
        settle: bool = True, **details: Any,
    ) -> int | None:  # fmt: skip
        """Record one check result as the check actor would; run the transition it makes, if any
        (`send=False`: the message announcing it is lost)."""
        uid = self.uid(name)
        entry = self.catalog.monitor(uid)
        now = self.now()
        result = (
            CheckResult.up(12.5, "HTTP 200", **details)
            if ok
            else CheckResult.down(FailureClass.STATUS, reason, 30.0, **details)
        )
        maint = self.rt.in_maintenance(entry, now)
        rec = self.store.checks.record(
            uid, result, lambda p: next_state(p, result, RetryPolicy(), maint, now), now
        )
        if rec.transition_id is not None and send:
            self.actors.handle_transition.send(rec.transition_id)
        if settle:
            self.settle()
        return rec.transition_id

    def settle(self) -> None:
        for queue in (TRANSITION_QUEUE, ALERT_QUEUE, ALERT_QUEUE):  # deliveries wait on transitions
            self.broker.join(queue, timeout=20_000, fail_fast=False)  # a failed delivery is a result here

    def deliveries(self, **filters: Any) -> list[Any]:
        return list(reversed(self.store.deliveries.list(**filters, limit=1000)))

    def close(self) -> None:
        self.stop.set()
        self.worker.stop(timeout=5000)
        self.broker.close()
        self.store.close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver()
    yield r
    r.stop()


@pytest.fixture
def harness(db_url: str, tmp_path: Path) -> Iterator[Harness]:
    h = Harness(db_url, tmp_path / "manifests")
    yield h
    h.close()


def test_down_then_up_reaches_the_chat_once_each(harness: Harness, receiver: WebhookReceiver) -> None:
    harness.apply(MONITOR.format(name="checkout"), PROVIDER.format(name="chat", url=receiver.url), policy())
    harness.check("checkout", ok=True)
    down = harness.check("checkout", ok=False)
    harness.check("checkout", ok=False)  # still DOWN: no transition, no message
    harness.check("checkout", ok=True)
    wait_for("two messages", lambda: len(receiver.bodies) == 2)
    assert receiver.titles() == ["🔴 checkout is DOWN", "✅ checkout is UP"]
    first = receiver.bodies[0]
    assert (
        first["message"]
        == "shop/checkout is DOWN: HTTP 500 from /health\nhttps://checkout.shop.example/health"
    )
    assert first["monitor"]["name"] == "checkout" and first["previousState"] == "UP"
    assert receiver.bodies[1]["message"].startswith("shop/checkout is UP again after ")
    rows = harness.deliveries()
    assert [(d.event, d.status, d.attempts) for d in rows] == [("down", "sent", 1), ("up", "sent", 1)]

    # Redelivery of the transition and of the message changes nothing.
    assert down is not None
    harness.actors.handle_transition.send(down)
    for d in rows:
        harness.alerts.deliver.send(d.id, None)
    harness.settle()
    time.sleep(0.2)
    assert len(receiver.bodies) == 2 and len(harness.deliveries()) == 2


def test_silence_suppresses_and_records_why(harness: Harness, receiver: WebhookReceiver) -> None:
    now = datetime.now(UTC)
    silence = f"""\
apiVersion: kubekuma.io/v1alpha1
kind: Silence
metadata: {{name: migration, namespace: shop}}
spec:
  matchers:
    - {{name: team, operator: "=", value: payments}}
    - {{name: __name__, operator: "=~", value: "check.*"}}
  startsAt: "{(now - timedelta(minutes=5)).isoformat()}"
  endsAt: "{(now + timedelta(hours=1)).isoformat()}"
  comment: DB migration
  createdBy: alice
---
"""
    harness.apply(
        MONITOR.format(name="checkout"), PROVIDER.format(name="chat", url=receiver.url), policy(), silence
    )
    harness.check("checkout", ok=True)
    harness.check("checkout", ok=False)
    harness.check("checkout", ok=True)
    rows = harness.deliveries()
    assert [(d.event, d.status) for d in rows] == [("down", "suppressed"), ("up", "suppressed")]
    assert rows[0].last_error.startswith("silenced by shop/migration by alice until ")
    assert rows[0].last_error.endswith(": DB migration")
    time.sleep(0.2)
    assert receiver.bodies == []


def test_a_policy_naming_a_missing_provider_hides_no_route_and_is_recorded_as_failed(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    # Before: "broken" won on priority, ended the search, and the DOWN went nowhere, silently.
    harness.apply(
        MONITOR.format(name="checkout"),
        PROVIDER.format(name="chat", url=receiver.url),
        policy("broken", provider="gone", priority=1),
        policy("catch-all", provider="chat", priority=2),
    )
    harness.check("checkout", ok=True)
    harness.check("checkout", ok=False)
    wait_for("the DOWN in the chat", lambda: len(receiver.bodies) == 1)
    assert receiver.titles() == ["🔴 checkout is DOWN"]
    rows = {(d.event, d.provider_uid, d.status, d.last_error) for d in harness.deliveries()}
    assert rows == {
        ("down", harness.uid("chat", "NotificationProvider"), "sent", ""),
        ("down", "missing:NotificationProvider/shop/gone", "failed", "provider shop/gone does not exist"),
    }


def test_transient_failures_are_retried_until_one_message_arrives(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    harness.apply(MONITOR.format(name="checkout"), PROVIDER.format(name="chat", url=receiver.url), policy())
    receiver.statuses = [500, 500]
    harness.check("checkout", ok=True)
    harness.check("checkout", ok=False)
    row = wait_for("the delivery sent", lambda: [d for d in harness.deliveries() if d.status == "sent"])[0]
    assert row.attempts == 3 and "answered 500" in row.last_error
    assert receiver.events() == ["down", "down", "down"]  # two refused, the third accepted
    assert len({h["X-KubeKuma-Delivery"] for h in receiver.headers}) == 1  # one key a receiver can dedupe on


def test_permanent_failure_is_not_retried_and_marks_the_provider(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    harness.apply(MONITOR.format(name="checkout"), PROVIDER.format(name="chat", url=receiver.url), policy())
    receiver.statuses = [401]
    harness.check("checkout", ok=True)
    harness.check("checkout", ok=False)
    row = wait_for("the delivery failed", lambda: [d for d in harness.deliveries() if d.status == "failed"])[
        0
    ]
    assert (
        row.attempts == 1 and "answered 401" in row.last_error and "check the credentials" in row.last_error
    )
    status = harness.store.resources.get("NotificationProvider", "shop", "chat").status  # type: ignore[union-attr]
    assert status["healthy"] is False and "401" in status["lastError"]
    assert [c["type"] for c in status["conditions"]] == ["Valid", "Reconciled", "Ready"]  # kept
    time.sleep(1.2)
    assert len(receiver.bodies) == 1


def test_a_claimed_delivery_is_not_sent_twice_while_its_holder_lives(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    harness.apply(PROVIDER.format(name="chat", url=receiver.url), MONITOR.format(name="checkout"))
    repo, provider = harness.store.deliveries, harness.uid("chat", "NotificationProvider")
    row, created = repo.create(
        "k:1", provider, harness.uid("checkout"), "down", "pending", "t", "b", harness.now()
    )
    assert (
        created and repo.create("k:1", provider, None, "down", "pending", "x", "y", harness.now())[1] is False
    )
    harness.rt.liveness.beat("slow-worker")
    assert repo.claim(row.id, "slow-worker", harness.now()) is not None  # a live worker is sending it
    harness.alerts.deliver.send(row.id, None)  # the broker redelivers
    harness.settle()
    assert receiver.bodies == [] and repo.get(row.id).status == "sending"  # type: ignore[union-attr]
    assert harness.jobs.sweep_deliveries() == 0  # alive and within its lease
    harness.offset = timedelta(seconds=61)  # it overran the lease: the sweeper retakes it
    assert harness.jobs.sweep_deliveries() == 1
    harness.settle()
    wait_for("the retaken delivery", lambda: len(receiver.bodies) == 1)
    done = repo.get(row.id)
    # its request had not gone out (the claim alone): nothing suggests the provider has it
    assert done is not None and (done.attempts, done.status, done.maybe_delivered) == (2, "sent", False)


def test_a_dead_workers_claim_is_retaken_at_once(harness: Harness, receiver: WebhookReceiver) -> None:
    harness.apply(PROVIDER.format(name="chat", url=receiver.url), MONITOR.format(name="checkout"))
    repo, provider = harness.store.deliveries, harness.uid("chat", "NotificationProvider")
    row, _ = repo.create("k:2", provider, harness.uid("checkout"), "down", "pending", "t", "b", harness.now())
    assert repo.claim(row.id, "host:4242", harness.now()) is not None  # that process was SIGKILLed

    assert harness.jobs.sweep_deliveries() == 1  # no beat from its holder: no need to wait out the lease
    harness.settle()
    wait_for("the retaken delivery", lambda: len(receiver.bodies) == 1)


def test_dedup_window_and_no_recovery_notice_without_an_outage_notice(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    harness.apply(
        MONITOR.format(name="checkout"),
        PROVIDER.format(name="chat", url=receiver.url),
        policy(dedupWindow="10m"),
    )
    harness.check("checkout", ok=True)
    for _ in range(2):
        harness.check("checkout", ok=False)
        harness.check("checkout", ok=True)
    rows = harness.deliveries()
    assert [(d.event, d.status) for d in rows] == [
        ("down", "sent"),
        ("up", "sent"),
        ("down", "suppressed"),
        ("up", "suppressed"),
    ]
    assert rows[2].last_error == f"duplicate of delivery {rows[0].id} within dedupWindow 10m"
    assert rows[3].last_error.startswith("duplicate of delivery")
    wait_for("two messages", lambda: len(receiver.bodies) == 2)


def test_up_is_not_announced_when_its_down_was_not(harness: Harness, receiver: WebhookReceiver) -> None:
    harness.apply(MONITOR.format(name="checkout"), PROVIDER.format(name="chat", url=receiver.url))
    harness.check("checkout", ok=True)
    harness.check("checkout", ok=False)  # no policy yet: nobody is told
    harness.apply(MONITOR.format(name="checkout"), PROVIDER.format(name="chat", url=receiver.url), policy())
    harness.check("checkout", ok=True)
    (row,) = harness.deliveries()
    assert (row.event, row.status) == ("up", "suppressed")
    assert row.last_error == "no DOWN notice of this incident reached this provider"


def running_window() -> str:
    """A MaintenanceWindow over the payments team that started a minute ago and lasts an hour."""
    start = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0).isoformat()
    return f"""\
apiVersion: kubekuma.io/v1alpha1
kind: MaintenanceWindow
metadata: {{name: upgrade, namespace: shop}}
spec: {{start: "{start}", duration: 1h, monitorSelector: {{matchLabels: {{team: payments}}}}}}
---
"""


def test_maintenance_window_mutes_and_shows_maintenance(harness: Harness, receiver: WebhookReceiver) -> None:
    window = running_window()
    harness.apply(
        MONITOR.format(name="checkout"),
        MONITOR.format(name="cart").replace("payments", "web"),
        PROVIDER.format(name="chat", url=receiver.url),
        policy(),
        window,
    )
    harness.check("checkout", ok=False)
    assert harness.store.checks.states()[harness.uid("checkout")].state == "MAINTENANCE"
    assert harness.store.incidents.open_for(harness.uid("checkout")) is None
    harness.check("cart", ok=False)  # not selected by the window
    assert harness.store.checks.states()[harness.uid("cart")].state == "DOWN"
    assert harness.deliveries() == [] and receiver.bodies == []  # cart's team has no policy


# --- what was wrong, each shown by a test that failed before -----------------------------------------


def test_a_late_down_is_superseded_and_the_next_outage_is_announced(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    """Before: the UP went out alone, then the late DOWN opened an incident nothing closed, and the
    next real outage folded into it and sent no DOWN at all."""
    harness.apply(MONITOR.format(name="checkout"), PROVIDER.format(name="chat", url=receiver.url), policy())
    harness.check("checkout", ok=True)
    down = harness.check("checkout", ok=False, send=False)  # its message is lost (worker died, Redis refused)
    harness.check("checkout", ok=True)  # recovered before anyone handled the DOWN
    assert down is not None
    harness.actors.handle_transition.send(down)  # the late message
    harness.settle()

    assert receiver.bodies == []  # neither a stale DOWN nor a lone UP
    rows = harness.deliveries()
    assert [(d.event, d.status) for d in rows] == [("down", "superseded"), ("up", "suppressed")]
    assert "was already over" in harness.store.transitions.get(down).note  # type: ignore[union-attr]
    assert harness.store.incidents.open_for(harness.uid("checkout")) is None

    harness.check("checkout", ok=False)  # the next real outage
    harness.check("checkout", ok=True)
    wait_for("DOWN and UP", lambda: len(receiver.accepted) == 2)
    assert receiver.events() == ["down", "up"]
    assert harness.jobs.send_reminders() == 0


def test_a_dead_workers_down_never_follows_its_up(harness: Harness, receiver: WebhookReceiver) -> None:
    """Before: the UP waited 30 s for the dead worker's claim, then the sweeper re-sent the stale
    DOWN ten minutes after the UP (PagerDuty got a trigger after the resolve)."""
    harness.apply(MONITOR.format(name="checkout"), PROVIDER.format(name="chat", url=receiver.url), policy())
    harness.check("checkout", ok=True)
    receiver.holding = True  # the chat takes the DOWN and keeps the sender waiting
    harness.check("checkout", ok=False, settle=False)
    assert receiver.arrived.wait(10)
    (down,) = wait_for(
        "the DOWN in flight", lambda: [d for d in harness.deliveries() if d.status == "sending"]
    )
    harness.check("checkout", ok=True, settle=False)  # recovered while the DOWN is in flight
    up = wait_for("the UP planned", lambda: [d for d in harness.deliveries() if d.event == "up"])
    time.sleep(1.0)
    assert receiver.events() == ["down"] and harness.store.deliveries.get(up[0].id).status == "pending"  # type: ignore[union-attr]

    # The sending worker dies: its claim now names a process that no longer beats.
    with db_session:
        harness.store.db.execute(
            "UPDATE kk_deliveries SET claim_holder = 'host:4242' WHERE id = $id", {"id": down.id}
        )
    receiver.holding = False
    assert harness.jobs.sweep_deliveries() == 1
    wait_for("the UP", lambda: receiver.events() == ["down", "up"])
    receiver.hold.set()
    harness.settle()
    final = {d.event: d for d in harness.deliveries()}
    assert final["down"].status == "superseded" and final["down"].maybe_delivered
    assert final["up"].status == "sent"
    harness.offset = timedelta(minutes=15)
    harness.jobs.sweep_deliveries()
    harness.settle()
    assert receiver.events() == ["down", "up"]  # nothing after the UP, ever


def test_the_recovery_after_maintenance_is_announced_to_those_told_of_the_outage(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    """Before: DOWN -> MAINTENANCE closed the incident silently; the pager alert stayed open."""
    harness.apply(MONITOR.format(name="checkout"), PROVIDER.format(name="chat", url=receiver.url), policy())
    harness.check("checkout", ok=True)
    harness.check("checkout", ok=False)
    wait_for("the DOWN", lambda: receiver.events() == ["down"])
    window = running_window()
    harness.apply(
        MONITOR.format(name="checkout"), PROVIDER.format(name="chat", url=receiver.url), policy(), window
    )
    harness.check("checkout", ok=False)  # the window starts: MAINTENANCE, nothing sent, nothing closed
    assert harness.store.checks.states()[harness.uid("checkout")].state == "MAINTENANCE"
    assert harness.store.incidents.open_for(harness.uid("checkout")) is not None
    harness.check("checkout", ok=True)  # fixed during the window: still MAINTENANCE, still open
    assert harness.store.incidents.open_for(harness.uid("checkout")) is not None
    harness.apply(MONITOR.format(name="checkout"), PROVIDER.format(name="chat", url=receiver.url), policy())
    harness.check("checkout", ok=True)  # the window is over and the check counts again

    wait_for("the UP", lambda: receiver.events() == ["down", "up"])
    assert harness.store.incidents.open_for(harness.uid("checkout")) is None


def test_a_down_in_flight_when_its_worker_stopped_beating_is_not_repeated_while_the_outage_lasts(
    harness: Harness, receiver: WebhookReceiver
) -> None:
    """A missed beat does not prove the request failed (a stalled worker may still finish it):
    during the outage the notice is not sent again until the attempt's lease has run out."""
    harness.apply(MONITOR.format(name="checkout"), PROVIDER.format(name="chat", url=receiver.url), policy())
    harness.check("checkout", ok=True)
    receiver.holding = True  # the chat takes the DOWN and keeps the sender waiting
    harness.check("checkout", ok=False, settle=False)
    assert receiver.arrived.wait(10)
    (down,) = wait_for(
        "the DOWN in flight", lambda: [d for d in harness.deliveries() if d.status == "sending"]
    )
    with db_session:  # its worker dies with the request out: its own finish will not count
        harness.store.db.execute(
            "UPDATE kk_deliveries SET claim_holder = 'host:4242', claim_token = 'gone' WHERE id = $id",
            {"id": down.id},
        )
    harness.alerts.deliver.send(down.id, None)  # the broker hands the message to another worker
    harness.jobs.sweep_deliveries()
    time.sleep(1.0)
    assert len(receiver.bodies) == 1  # not sent again while the first request may still land
    receiver.holding = False
    receiver.hold.set()
    harness.settle()
    assert receiver.events() == ["down"]
    row = harness.store.deliveries.get(down.id)
    assert row is not None and (row.status, row.attempts) == ("sending", 1)

    harness.offset = timedelta(seconds=61)  # past the attempt's lease: the outcome stays unknown
    assert harness.jobs.sweep_deliveries() == 1
    harness.settle()
    wait_for("the repeated DOWN", lambda: receiver.events() == ["down", "down"])
    row = harness.store.deliveries.get(down.id)
    assert row is not None and (row.status, row.attempts, row.maybe_delivered) == ("sent", 2, True)


def test_a_worker_whose_claim_was_retaken_does_not_send(harness: Harness) -> None:
    repo = harness.store.deliveries
    row, _ = repo.create("k:9", "p", "m", "down", "pending", "t", "b", harness.now())
    claim = repo.claim(row.id, "stalled-worker", harness.now())
    assert claim is not None and claim.token
    later = harness.now() + timedelta(seconds=61)
    assert repo.retake(row.id, later, 60.0, alive=lambda h: True)  # it overran its lease
    assert repo.going_out(row.id, claim.token) is False  # so it must not send
