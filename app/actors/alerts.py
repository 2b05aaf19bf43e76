"""The alerting pipeline's effects: from a transition to delivery rows, and from a row to one message.

`on_transition` (a TransitionHook, run once per transition after the incident
bookkeeping) updates flapping, plans deliveries with the pure functions of
`app.alerting`, applies the checks that need history (dedupWindow, "no recovery notice for
an outage never announced"), writes one row per (event, provider) and enqueues `deliver`
for the rows that are pending. `deliver` claims its row, sends through the provider's
notifier and records the outcome: retried with backoff on a transient error, failed at
once on a permanent one. Periodic jobs (see `periodic_jobs`) send reminders, certificate
warnings and flapping-settled notices, re-send deliveries whose message was lost, and
probe providers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import dramatiq

from app.actors.broker import ALERT_QUEUE
from app.actors.runtime import Runtime
from app.alerting import events as ev
from app.alerting import flapping as flap
from app.alerting.config import KINDS, AlertConfig, build_config
from app.alerting.events import AlertEvent, EventKind
from app.alerting.plan import PENDING, Planned, plan, plan_routes
from app.alerting.routing import ProviderView, Route, route
from app.alerting.templates import safe_url
from app.notifiers import NotifierError, dispatch, style
from app.resources.common import format_duration
from app.resources.kinds import NotificationProviderSpec
from app.store import IncidentView, TransitionView

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10  # with backoff from 0.5 s doubling to 5 min: about 15 minutes of trying
STALE_CLAIM_S = 600.0  # a claim this old belongs to a dead worker and may be retaken
LOST_PENDING_S = 120.0  # a pending row untouched this long lost its message: send it again
LOST_RETRY_S = 900.0  # longer than the longest backoff (5 min): a retry this late was lost
PROBE_EVERY_S = 600.0
IN_FLIGHT_S = 30.0  # longer than any send takes: a claim older than this is a dead worker's


class PermanentDeliveryError(Exception):
    """A delivery that no retry can fix; listed in the actor's `throws` so Dramatiq does not retry it."""


class AlertCache:
    """The alerting kinds, parsed once per resource-cache revision (checked at most every `ttl`)."""

    def __init__(self, store: Any, ttl: float = 1.0) -> None:
        self.store, self.ttl = store, ttl
        self._lock = threading.Lock()
        self._checked = 0.0
        self._config = AlertConfig()

    def get(self) -> AlertConfig:
        now = time.monotonic()
        if now - self._checked < self.ttl:
            return self._config
        with self._lock:
            if now - self._checked >= self.ttl:
                rev = self.store.resources.revision()
                if rev != self._config.revision:
                    records = [r for kind in KINDS for r in self.store.resources.list(kind=kind)]
                    self._config = build_config(records, rev)
                self._checked = now
        return self._config


@dataclass
class AlertActors:
    rt: Runtime
    cache: AlertCache
    deliver: dramatiq.Actor = field(init=False)
    probe_provider: dramatiq.Actor = field(init=False)
    thresholds: flap.FlapThresholds = field(default_factory=flap.FlapThresholds)

    # -- maintenance (asked by check_monitor for every check) --------------------------------------
    def in_maintenance(self, entry: Any, now: datetime) -> bool:
        return self.cache.get().maintenance(entry, now) is not None

    # -- transitions -------------------------------------------------------------------------------
    def on_transition(self, rt: Runtime, t: TransitionView, incident: IncidentView | None) -> None:
        entry = rt.catalog.monitor(t.monitor_uid)
        if entry is None:
            return
        beats = rt.store.checks.heartbeats(t.monitor_uid, flap.HISTORY)
        flapping = self._update_flapping(entry, [h.state for h in beats], t.at, t.reason)
        latency = beats[0].latency_ms if beats else None
        event = ev.transition_event(
            t.id, t.monitor_uid, t.from_state, t.to_state, t.at, t.reason, latency,
            incident.id if incident else None, incident.duration_s if incident else None,
        )  # fmt: skip
        if event is not None:
            self.emit(event, entry, flapping, incident)

    def emit(
        self,
        event: AlertEvent,
        entry: Any,
        flapping: bool = False,
        incident: IncidentView | None = None,
        routes: list[Route] | None = None,
    ) -> list[int]:
        """Plan, record and enqueue the deliveries of one event. Returns the ids enqueued."""
        now = self.rt.clock()
        cfg = self.cache.get()
        url = safe_url(entry.spec.target())
        if routes is None:
            planned = plan(event, entry, url, cfg, now, flapping, style)
        else:
            planned = plan_routes(event, entry, url, routes, cfg, now, flapping, style)
        facts = {"state": event.state, "previousState": event.previous_state, "reason": event.reason,
                 "latencyMs": event.latency_ms, "url": url, "extra": event.extra}  # fmt: skip
        sent = []
        for p in planned:
            if p.status == PENDING:
                why = self._history_says(event, entry.uid, p, incident, now)
                if why:
                    p.suppress(why)
            row, _ = self.rt.store.deliveries.create(event.key, p.provider.uid, entry.uid, event.kind.value,
                                                     p.status, p.title, p.body, now, p.reason)  # fmt: skip
            if row.status == PENDING:  # also when an earlier run made the row but died before enqueuing
                self.deliver.send(row.id, facts)
                sent.append(row.id)
            elif p.status != PENDING:
                log.info("%s %s to %s suppressed: %s", entry.key, event.kind, p.provider.key, p.reason)
        return sent

    def _history_says(self, event: AlertEvent, uid: str, p: Planned, incident: IncidentView | None,
                      now: datetime) -> str:  # fmt: skip
        """Suppression reasons that need past deliveries: a dedup window, or an UP with no DOWN before it."""
        repo = self.rt.store.deliveries
        window = p.policy.spec.dedupWindow
        if window > 0 and event.kind != EventKind.REMINDER:
            last = repo.last_live(uid, p.provider.uid, event.kind.value, now - timedelta(seconds=window))
            if last is not None and last.event_key != event.key:
                return f"duplicate of delivery {last.id} within dedupWindow {format_duration(window)}"
        if event.kind == EventKind.UP and incident is not None:
            down = ev.incident_key(incident.id, EventKind.DOWN)
            if not repo.announced(p.provider.uid, [down], ev.reminder_prefix(incident.id)):
                return "no DOWN notice of this incident reached this provider"
        return ""

    def _update_flapping(self, entry: Any, states: list[str], at: datetime, reason: str = "") -> bool:
        """Recompute flapping from recent checks; on a change, record it on the monitor and announce it."""
        rec = self.rt.store.resources.get_uid(entry.uid)
        status = dict(rec.status) if rec else {}
        current = status.get("flapping") or {}
        was = bool(current.get("active"))
        percent = flap.percent_state_change(flap.down_history(states))
        change = flap.flap_change(was, percent, self.thresholds)
        if change is None:
            return was
        now = self.rt.clock()
        status["flapping"] = flap.flapping_status(current, change, at, percent, now)
        self.rt.store.resources.set_status(entry.uid, status)
        started = change is flap.FlapChange.STARTED
        state = states[0] if states else ""
        episode = status["flapping"]["since"]
        self.emit(ev.flapping_event(started, entry.uid, episode, state, reason, percent, now), entry)
        return started

    # -- sending -----------------------------------------------------------------------------------
    def run_delivery(self, delivery_id: int, facts: dict[str, Any] | None = None) -> str | None:
        """Claim, send, record. Returns the final status (or None when there was nothing to do)."""
        rt = self.rt
        wait = self._must_wait(delivery_id)
        if wait is not None:  # keep the order a person reads: no UP before its DOWN
            rt.store.deliveries.touch(delivery_id, rt.clock())  # alive: the sweeper leaves it alone
            self.deliver.send_with_options(args=(delivery_id, facts), delay=wait)  # not a retry: none used up
            return "waiting"
        row = rt.store.deliveries.claim(delivery_id, rt.clock(), STALE_CLAIM_S)
        if row is None:
            return None  # sent, suppressed, failed, or in flight on another worker
        provider = self._provider(row.provider_uid)
        if provider is None:
            rt.store.deliveries.mark_failed(row.id, "the provider no longer exists")
            return "failed"
        if not provider.enabled:
            rt.store.deliveries.mark_suppressed(row.id, f"provider {provider.key} is disabled")
            return "suppressed"
        ctx = dispatch.context(provider, rt.secrets, rt.session())
        msg = dispatch.message_from(
            row, facts, rt.catalog.monitor(row.monitor_uid) if row.monitor_uid else None
        )
        try:
            dispatch.send(provider, msg, ctx)
        except Exception as exc:
            err = dispatch.safe_error(exc, ctx)
            if not isinstance(exc, NotifierError):  # a bug: say where; no traceback, it may quote a secret
                tb = exc.__traceback__
                while tb is not None and tb.tb_next is not None:
                    tb = tb.tb_next
                where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
                log.error("delivery %d to %s: %s (at %s)", row.id, provider.key, err, where)
            return self._failed(row.id, row.attempts, provider, err)
        rt.store.deliveries.mark_sent(row.id, rt.clock())
        log.info(
            "delivery %d (%s) sent to %s after %d attempt(s)", row.id, row.event, provider.key, row.attempts
        )
        return "sent"

    def _must_wait(self, delivery_id: int) -> int | None:
        """Milliseconds to wait for an earlier delivery to the same provider still being tried (an
        incident's DOWN, for its UP), or None when this one may go now."""
        repo = self.rt.store.deliveries
        row = repo.get(delivery_id)
        first = ev.must_follow(row.event_key) if row is not None and row.status == PENDING else None
        other = repo.find(first, row.provider_uid) if row is not None and first is not None else None
        if other is None or other.status not in ("pending", "sending"):
            return None
        if other.status == "pending":  # between retries: look again about when it is tried next
            return min(60_000, 500 * 2 ** max(other.attempts, 1))
        age = (self.rt.clock() - other.sent_at).total_seconds() if other.sent_at else 0.0
        # A claim older than IN_FLIGHT_S is a dead worker's: its outcome is unknown, so the UP goes on.
        return 250 if age < IN_FLIGHT_S else None

    def _failed(self, delivery_id: int, attempts: int, provider: ProviderView, err: NotifierError) -> str:
        repo = self.rt.store.deliveries
        if err.permanent or attempts >= MAX_ATTEMPTS:
            final = str(err) if err.permanent else f"{err} (gave up after {attempts} attempts)"
            repo.mark_failed(delivery_id, final)
            self._set_provider_health(provider.uid, False, final)
            log.warning("delivery %d to %s failed: %s", delivery_id, provider.key, final)
            raise PermanentDeliveryError(final)
        repo.release(delivery_id, str(err))
        raise dramatiq.Retry(f"delivery {delivery_id} to {provider.key}: {err}")

    def _provider(self, uid: str) -> ProviderView | None:
        """Read fresh, not from the cache: a provider edited a moment ago must send with its new settings."""
        rec = self.rt.store.resources.get_uid(uid)
        if rec is None or rec.spec is None:
            return None
        spec = NotificationProviderSpec.model_validate(rec.spec)
        return ProviderView(rec.uid, rec.namespace, rec.name, spec.type, spec.enabled, spec.settings,
                            rec.generation, rec.status)  # fmt: skip

    # -- provider health ---------------------------------------------------------------------------
    def run_probe(self, provider_uid: str) -> dict[str, Any] | None:
        provider = self._provider(provider_uid)
        if provider is None:
            return None
        ctx = dispatch.context(provider, self.rt.secrets, self.rt.session())
        try:
            tested = dispatch.probe(provider, ctx)
            healthy, error, test = True, "", "connectivity" if tested else "configuration"
        except Exception as exc:
            healthy, error, test = False, str(dispatch.safe_error(exc, ctx)), "connectivity"
        return self._set_provider_health(provider.uid, healthy, error, test, provider.generation)

    def _set_provider_health(self, uid: str, healthy: bool, error: str, test: str | None = None,
                             generation: int | None = None) -> dict[str, Any] | None:  # fmt: skip
        rec = self.rt.store.resources.get_uid(uid)
        if rec is None:
            return None
        status = dispatch.health_status(rec.status, healthy, error, self.rt.clock(), test, generation)
        self.rt.store.resources.set_status(uid, status)
        return status

    # -- periodic jobs -----------------------------------------------------------------------------
    def send_reminders(self) -> int:
        """One reminder per policy per `repeatInterval` while an incident stays open."""
        cfg, now, n = self.cache.get(), self.rt.clock(), 0
        if not any(p.spec.repeatInterval > 0 for p in cfg.policies):
            return 0
        for inc in self.rt.store.incidents.list(open_only=True, limit=10_000):
            entry = self.rt.catalog.monitor(inc.monitor_uid)
            if entry is None:
                continue
            by_policy: dict[str, list[Route]] = {}
            for r in route("down", entry, cfg.policies, cfg.providers).routes:
                by_policy.setdefault(r.policy.uid, []).append(r)
            for policy_uid, routes in by_policy.items():
                repeat = routes[0].policy.spec.repeatInterval
                event = ev.reminder_event(
                    inc.id, inc.monitor_uid, inc.opened_at, inc.last_reason, policy_uid, repeat, now
                )
                if event is None or self.rt.store.deliveries.exists(event.key):
                    continue
                n += len(self.emit(event, entry, self._is_flapping(entry.uid), inc, routes))
        return n

    def warn_certificates(self) -> int:
        """One notice per certificate per warnDays threshold it crosses (checkers put it in details.cert)."""
        cfg, now, n = self.cache.get(), self.rt.clock(), 0
        if not any("certificateExpiring" in p.spec.triggers for p in cfg.policies):
            return 0
        for uid, st in self.rt.store.checks.states().items():
            event = ev.certificate_event(uid, st.state, (st.details or {}).get("cert") or {}, now)
            if event is None or self.rt.store.deliveries.exists(event.key):
                continue
            entry = self.rt.catalog.monitor(uid)
            if entry is not None:
                n += len(self.emit(event, entry))
        return n

    def settle_flapping(self) -> int:
        """Flapping ends between transitions (the checks calm down), so it is re-evaluated here."""
        n = 0
        for rec in self.rt.store.resources.list(kind="Monitor"):
            if not (rec.status.get("flapping") or {}).get("active"):
                continue
            entry = self.rt.catalog.monitor(rec.uid)
            if entry is None:
                continue
            beats = self.rt.store.checks.heartbeats(rec.uid, flap.HISTORY)
            reason = beats[0].reason if beats else ""
            if not self._update_flapping(entry, [h.state for h in beats], self.rt.clock(), reason):
                n += 1
        return n

    def _is_flapping(self, uid: str) -> bool:
        rec = self.rt.store.resources.get_uid(uid)
        return bool(rec and (rec.status.get("flapping") or {}).get("active"))

    def sweep_deliveries(self) -> int:
        """Re-send deliveries whose message was lost or whose worker died (the claim decides who sends)."""
        ids = self.rt.store.deliveries.stuck(self.rt.clock(), LOST_PENDING_S, LOST_RETRY_S, STALE_CLAIM_S)
        for delivery_id in ids:
            self.deliver.send(delivery_id, None)
        if ids:
            log.warning("re-sending %d stuck deliveries", len(ids))
        return len(ids)

    def probe_providers(self) -> int:
        """Probe providers never tested, changed since, or last tested PROBE_EVERY_S ago (on a worker)."""
        now, n = self.rt.clock(), 0
        for rec in self.rt.store.resources.list(kind="NotificationProvider"):
            if rec.spec is not None and dispatch.probe_due(rec.status, rec.generation, now, PROBE_EVERY_S):
                self.probe_provider.send(rec.uid)
                n += 1
        return n

    def prune(self, keep_days: float = 90.0) -> int:
        return self.rt.store.deliveries.prune(self.rt.clock() - timedelta(days=keep_days))

    def periodic_jobs(self) -> list[tuple[str, float, Callable[[], Any]]]:
        """(name, every seconds, function) for the scheduler's `periodic` list (run by the leader only)."""
        return [
            ("alert-reminders", 30.0, self.send_reminders),
            ("alert-certificates", 300.0, self.warn_certificates),
            ("alert-flapping", 60.0, self.settle_flapping),
            ("alert-sweep-deliveries", 60.0, self.sweep_deliveries),
            ("alert-probe-providers", 60.0, self.probe_providers),
            ("alert-prune-deliveries", 3600.0, self.prune),
        ]


def register_alert_actors(
    broker: dramatiq.Broker, rt: Runtime, cache: AlertCache | None = None
) -> AlertActors:
    """Declare `deliver` and `probe_provider` on the alerts queue of `broker`."""
    alerts = AlertActors(rt, cache or AlertCache(rt.store))

    def deliver(delivery_id: int, facts: dict[str, Any] | None = None) -> None:
        alerts.run_delivery(delivery_id, facts)

    def probe_provider(provider_uid: str) -> None:
        alerts.run_probe(provider_uid)

    alerts.deliver = dramatiq.actor(
        actor_name="deliver", queue_name=ALERT_QUEUE, broker=broker, max_retries=MAX_ATTEMPTS + 2,
        min_backoff=500, max_backoff=300_000, time_limit=120_000, throws=(PermanentDeliveryError,),
    )(deliver)  # fmt: skip
    alerts.probe_provider = dramatiq.actor(
        actor_name="probe_provider", queue_name=ALERT_QUEUE, broker=broker, max_retries=0, time_limit=60_000,
    )(probe_provider)  # fmt: skip
    return alerts
