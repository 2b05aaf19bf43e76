"""The alert promise under random interleavings, checked by hypothesis.

A state machine drives the real store, actors and sender (SQLite, a webhook receiver on
loopback) through checks that flip a monitor, maintenance, deletion and re-adding, and
every fault the broker and workers can produce: messages lost, delivered late or out of
order, handled twice, a worker dying mid-transition or mid-delivery (before or after the
provider took the message), a receiver that refuses, and time passing for reminders and
sweepers. The broker is Dramatiq's in-memory one; this test takes its messages and runs
them in whatever order hypothesis picks.

Then it drains everything and checks what the chat received, per monitor and provider:
DOWN and UP alternate starting with DOWN, each incident's notices belong to it, no
reminder after a recovery, nothing sent twice except where a worker died after the
provider took the message (at-least-once: the same delivery key, which a receiver can
drop), and every incident is closed at the end.
"""

from __future__ import annotations

import itertools
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from pony.orm import db_session

from app.actors import register_actors
from app.actors.alerts import AlertCache, register_alert_actors
from app.actors.broker import ALERT_QUEUE, TRANSITION_QUEUE, make_broker
from app.actors.periodic import Housekeeping
from app.actors.runtime import Runtime
from app.alerting.state import RetryPolicy, next_state
from app.catalog import Catalog
from app.controller.folder import FolderController
from app.coord import LocalGuard
from app.model import CheckResult, FailureClass
from app.resources.loader import SecretStore
from app.store import Store
from app.store.timeutil import to_db
from tests.integration.test_alerting_pipeline import MONITOR, PROVIDER, WebhookReceiver, policy

# hypothesis runs many examples in one test: a budget of its own, not the default 120 s
pytestmark = pytest.mark.timeout(900)
DEAD = "host-that-was-killed:4242"
NAMES = itertools.count()
RECEIVER = WebhookReceiver()  # one for the whole run: each example has its own monitor name


class AlertPromise(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        folder = Path(self.tmp.name) / "manifests"
        folder.mkdir()
        self.folder = folder
        self.now = datetime(2026, 1, 1, tzinfo=UTC)
        self.store = Store(f"sqlite:///{self.tmp.name}/kk.db")
        self.secrets = SecretStore()
        self.controller = FolderController(folder, self.store, self.secrets)
        self.name = f"m{next(NAMES)}"
        self.present = False
        self.write(with_monitor=True)
        self.catalog = Catalog(self.store, ttl=0.0)
        self.broker: StubBroker = make_broker(None)  # type: ignore[assignment]
        self.rt = Runtime(self.store, self.catalog, self.secrets, LocalGuard(), clock=lambda: self.now)
        self.alerts = register_alert_actors(self.broker, self.rt, AlertCache(self.store, ttl=0.0))
        self.rt.in_maintenance = lambda entry, now: self.maintenance
        self.actors = register_actors(self.broker, self.rt, hooks=[self.alerts.on_transition])
        self.jobs = Housekeeping(self.actors, self.alerts)
        self.maintenance = False
        self.inflight: list[dramatiq.Message] = []
        self.died_after_send: set[str] = set()  # delivery keys a dead worker may have sent
        self.seen = len(RECEIVER.accepted)

    # -- the world ---------------------------------------------------------------------------------
    def write(self, with_monitor: bool) -> None:
        docs = MONITOR.format(name=self.name) if with_monitor else ""
        docs += PROVIDER.format(name="chat", url=RECEIVER.url) + policy(repeatInterval="60s")
        docs += "apiVersion: v1\nkind: Secret\nmetadata: {name: hook, namespace: shop}\n"
        docs += "stringData: {key: signing-key}\n---\n"
        (self.folder / "all.yaml").write_text(docs)
        self.controller.reconcile(force=True)
        self.present = with_monitor

    @property
    def uid(self) -> str:
        rec = self.store.resources.get("Monitor", "shop", self.name)
        return rec.uid if rec else ""

    def pump(self) -> None:
        """Take every message the code sent from the broker into our hands."""
        for queue in (TRANSITION_QUEUE, ALERT_QUEUE):
            for name in (queue, dq_name(queue)):
                q = self.broker.queues.get(name)
                while q is not None and not q.empty():
                    self.inflight.append(dramatiq.Message.decode(q.get_nowait()))
                    q.task_done()

    def run(self, message: dramatiq.Message) -> None:
        self.rt.liveness.beat(self.rt.identity)
        self.broker.get_actor(message.actor_name).fn(*message.args, **message.kwargs)
        self.pump()

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    # -- rules -------------------------------------------------------------------------------------
    @precondition(lambda self: self.present)
    @rule(ok=st.booleans())
    def check(self, ok: bool) -> None:
        self.tick(10)
        result = CheckResult.up(12.0) if ok else CheckResult.down(FailureClass.STATUS, "HTTP 500")
        now, maint = self.now, self.maintenance
        recorded = self.store.checks.record(
            self.uid, result, lambda prev: next_state(prev, result, RetryPolicy(), maint, now), now
        )
        if recorded.transition_id is not None:
            self.actors.handle_transition.send(recorded.transition_id)
        self.pump()

    @rule(on=st.booleans())
    def set_maintenance(self, on: bool) -> None:
        self.maintenance = on

    @precondition(lambda self: self.inflight)
    @rule(pick=st.integers(min_value=0), keep=st.booleans())
    def deliver_message(self, pick: int, keep: bool) -> None:
        """The broker hands over any waiting message (order is not kept); `keep`: it is redelivered later."""
        message = self.inflight[pick % len(self.inflight)]
        if not keep:
            self.inflight.remove(message)
        self.run(message)

    @precondition(lambda self: self.inflight)
    @rule(pick=st.integers(min_value=0))
    def lose_message(self, pick: int) -> None:
        self.inflight.pop(pick % len(self.inflight))

    @rule()
    def worker_dies_mid_transition(self) -> None:
        pending = self.store.transitions.list(self.uid, status="pending") if self.uid else []
        if pending:
            t = pending[-1]
            self.store.transitions.next_for(t.monitor_uid, t.id, DEAD, self.now, 30)

    @rule(after_send=st.booleans())
    def worker_dies_mid_delivery(self, after_send: bool) -> None:
        """A worker claimed a delivery and was killed, before or after the provider took the message."""
        rows = [d for d in self.store.deliveries.list(limit=50) if d.status == "pending"]
        if not rows:
            return
        row = rows[-1]
        if after_send:
            outcome = self.alerts.sender.run(row.id)
            if outcome != "sent":
                return
            self.died_after_send.add(row.event_key)
            with db_session:  # what the crash leaves: the message out, the row still claimed
                self.store.db.execute(
                    "UPDATE kk_deliveries SET status = 'sending', sent_at = NULL, claim_token = 'x', "
                    "claim_holder = $h, claimed_at = $t, in_flight = $yes WHERE id = $id",
                    {"h": DEAD, "t": to_db(self.now), "id": row.id, "yes": True},
                )
        else:
            self.store.deliveries.claim(row.id, DEAD, self.now)
        self.pump()

    @rule(n=st.integers(min_value=1, max_value=3))
    def receiver_refuses(self, n: int) -> None:
        RECEIVER.statuses = [500] * n

    @rule(seconds=st.sampled_from([1, 30, 70, 400]))
    def time_passes(self, seconds: int) -> None:
        self.tick(seconds)

    @rule()
    def sweep(self) -> None:
        self.jobs.sweep_transitions()
        self.jobs.sweep_deliveries()
        self.jobs.send_reminders()
        self.jobs.forget_gone()
        self.pump()

    @precondition(lambda self: self.present)
    @rule()
    def delete_monitor(self) -> None:
        self.write(with_monitor=False)

    @precondition(lambda self: not self.present)
    @rule()
    def add_it_again(self) -> None:
        self.write(with_monitor=True)

    @invariant()
    def at_most_one_open_incident(self) -> None:
        assert len([i for i in self.store.incidents.list(open_only=True) if i.monitor_uid == self.uid]) <= 1

    # -- the end -----------------------------------------------------------------------------------
    def drain(self) -> None:
        """Deliver what is in flight, let time pass and the sweepers run, until nothing moves."""
        RECEIVER.statuses = []
        for _ in range(60):
            batch, self.inflight = self.inflight, []
            for message in batch:  # what these send comes in the next round, as on a real broker
                self.run(message)
            self.tick(400)  # past every lease and backoff
            swept = self.jobs.sweep_transitions() + self.jobs.sweep_deliveries()
            self.pump()
            if not batch and not swept and not self.inflight:
                return
        raise AssertionError(f"the alert path did not settle: {self.inflight}")

    def teardown(self) -> None:
        try:
            self.drain()
            if not self.present:
                self.write(with_monitor=True)
            self.maintenance = False
            self.check(ok=True)
            self.drain()
            self.verify()
        finally:
            self.broker.close()
            self.store.close()
            self.tmp.cleanup()

    def verify(self) -> None:
        mine = [b for b in RECEIVER.accepted[self.seen :] if b["monitor"]["name"] == self.name]
        first: dict[str, int] = {}
        messages = []
        for b in mine:  # a receiver drops a repeated delivery key; only a crash after sending repeats one
            key = b["key"].rsplit("/", 1)[0]  # the event's key (the part after / names the row)
            if key in first:
                assert key in self.died_after_send, f"{key} sent twice without a crash: {mine}"
                continue
            first[key] = 1
            messages.append((b["event"], key))
        incident, expect = None, "down"
        closed = {i.id: i for i in self.store.incidents.list(limit=1000)}
        # Deleting a monitor announces nothing further: an outage whose recovery was not yet
        # announced when its monitor was deleted ends without an UP.
        cut_short = {i for i, inc in closed.items() if inc.close_reason == "monitor deleted"}
        cut_short |= {
            t.incident_id for t in self.store.transitions.list(status="superseded", limit=1000)
            if t.event == "up" and "monitor deleted" in t.note
        }  # fmt: skip
        for event, key in messages:
            number = int(key.split(":")[1])
            if event == "reminder":
                assert expect == "up" and number == incident, f"a reminder outside its outage: {messages}"
                continue
            if event == "down" and expect == "up":  # only when the last outage ended with the monitor deleted
                assert incident in cut_short, messages
                expect = "down"
            assert event == expect, f"expected {expect}, got {event}: {messages}"
            if event == "down":
                incident = number
            else:
                assert number == incident, f"an UP of another incident: {messages}"
            expect = "up" if event == "down" else "down"
        assert all(i.closed_at is not None for i in closed.values()), "every incident closes in the end"
        if expect == "up":  # an outage announced and never recovered: only when its monitor was deleted
            assert incident in cut_short, messages


AlertPromise.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestAlertPromise = AlertPromise.TestCase
