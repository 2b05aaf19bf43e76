"""Every periodic job in one place, run by the leading scheduler: (name, every seconds, function).

Sweepers make the at-least-once pieces whole again: a transition or delivery whose message
was lost or whose worker died is picked up within seconds (a dead holder is known by its
missing liveness beat, not by waiting out a lease), a check held by a dead worker is
run again at once, and a push deadline is judged within a second of passing. The rest
keeps history in bounds and sends what time alone makes due (reminders, certificates).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from app.actors import Actors
from app.actors import transitions as tr
from app.actors.alerts import AlertActors
from app.actors.checks import guard_ttl
from app.actors.deliver import LEASE_S as DELIVERY_LEASE_S
from app.alerting import events as ev
from app.alerting import flapping as flap
from app.alerting.routing import Route, route
from app.model import State
from app.notifiers import dispatch
from app.resources.kinds import AuthSettings
from app.resources.monitor import MonitorType
from app.uptime.retention import heartbeat_retention, retention_plan, retention_settings

log = logging.getLogger(__name__)

Job = tuple[str, float, Callable[[], Any]]
TRANSITION_GRACE_S = 5.0  # a transition unclaimed this long lost its message
DELIVERY_GRACE_S = 10.0  # a delivery this far past its due time lost its message
PROBE_EVERY_S = 600.0


class Housekeeping:
    def __init__(self, actors: Actors, alerts: AlertActors) -> None:
        self.actors, self.alerts, self.rt = actors, alerts, actors.runtime
        self._push: tuple[int, list[Any]] | None = None  # (catalog revision, its push monitors)

    def jobs(self) -> list[Job]:
        return [
            ("sweep-transitions", 2.0, self.sweep_transitions),
            ("sweep-deliveries", 5.0, self.sweep_deliveries),
            ("revive-orphaned-checks", 2.0, self.revive_orphans),
            ("push-deadlines", 1.0, self.push_deadlines),
            ("forget-gone-monitors", 10.0, self.forget_gone),
            ("alert-reminders", 30.0, self.send_reminders),
            ("alert-certificates", 300.0, self.warn_certificates),
            ("alert-flapping", 60.0, self.settle_flapping),
            ("alert-probe-providers", 60.0, self.probe_providers),
            ("prune-history", 3600.0, self.prune),
        ]

    # -- making the at-least-once parts whole ------------------------------------------------
    def sweep_transitions(self) -> int:
        """Re-send the newest stuck transition of each monitor (one message handles all before it)."""
        rt = self.rt
        stuck = rt.store.transitions.stuck(rt.clock(), TRANSITION_GRACE_S, tr.LEASE_S, rt.liveness.alive)
        newest: dict[str, int] = {}
        for tid, uid in stuck:
            newest[uid] = max(tid, newest.get(uid, 0))
        for tid in newest.values():
            self.actors.handle_transition.send(tid)
        if newest:
            log.warning("re-sending %d stuck transition(s)", len(newest))
        return len(newest)

    def sweep_deliveries(self) -> int:
        rt = self.rt
        ids = rt.store.deliveries.stuck(rt.clock(), DELIVERY_GRACE_S, DELIVERY_LEASE_S, rt.liveness.alive)
        for delivery_id in ids:
            self.alerts.deliver.send(delivery_id, None)
        if ids:
            log.warning("re-sending %d stuck deliveries", len(ids))
        return len(ids)

    def _check_now(self, uid: str) -> bool:
        entry = self.rt.catalog.monitor(uid)
        if entry is None or not entry.spec.enabled:
            return False
        token = self.rt.guard.acquire(uid, guard_ttl(entry.spec.timeout))
        if token is None:
            return False
        try:
            self.actors.enqueue_check(uid, entry.generation, self.rt.clock().timestamp(), entry.spec.timeout,
                                      token=token)  # fmt: skip
        except Exception:
            self.rt.guard.release(uid, token)
            raise
        return True

    def revive_orphans(self) -> int:
        """Checks that were running on a worker that died: run them again now."""
        n = sum(1 for uid in self.rt.guard.orphans() if self._check_now(uid))
        if n:
            log.warning("re-checking %d monitor(s) whose worker died mid-check", n)
        return n

    def push_deadlines(self) -> int:
        """Push monitors whose deadline passed while they were UP (or new): check them now, not at
        their next interval."""
        rt = self.rt
        push = self._push_monitors()
        if not push:
            return 0
        now = rt.clock()
        uids = [m.uid for m in push]
        last = rt.store.push.last_pushes(uids)
        states = rt.store.checks.states(uids)
        n = 0
        for m in push:
            st = states.get(m.uid)
            if st is not None and st.state != State.UP:
                continue  # already failing (or in maintenance): its own schedule goes on
            since = last.get(m.uid)
            if since is None:
                continue  # not seen yet: its first scheduled check starts the clock
            allowed = m.spec.interval + m.spec.push.gracePeriod  # type: ignore[union-attr]
            if (now - since).total_seconds() > allowed and self._check_now(m.uid):
                n += 1
        return n

    def _push_monitors(self) -> list[Any]:
        """The enabled push monitors, picked out once per catalog revision, not every second."""
        catalog = self.rt.catalog
        catalog.refresh()
        if self._push is None or self._push[0] != catalog.revision:
            revision = catalog.revision
            found = [m for m in catalog.monitors() if m.spec.type == MonitorType.PUSH and m.spec.enabled]
            self._push = (revision, found)
        return self._push[1]

    def forget_gone(self) -> int:
        """Incidents of monitors deleted or paused close quietly; their state starts afresh."""
        rt = self.rt
        n = 0
        for inc in rt.store.incidents.list(open_only=True, limit=10_000):
            entry = rt.catalog.monitor(inc.monitor_uid)
            if entry is None or not entry.spec.enabled:
                why = "monitor deleted" if entry is None else "monitor paused"
                rt.store.incidents.forget_monitor(inc.monitor_uid, why, rt.clock())
                n += 1
        return n

    # -- what time makes due ---------------------------------------------------------------------
    def send_reminders(self) -> int:
        """One reminder per policy per `repeatInterval` while an incident stays open."""
        cfg, now, n = self.alerts.config(), self.rt.clock(), 0
        if not any(p.spec.repeatInterval > 0 for p in cfg.policies):
            return 0
        for inc in self.rt.store.incidents.list(open_only=True, limit=10_000):
            entry = self.rt.catalog.monitor(inc.monitor_uid)
            if entry is None or inc.acked_at is not None or not self._announced(inc):
                continue  # acknowledged incidents get no reminders
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
                flapping = self.alerts.announcer.is_flapping(entry.uid)
                n += len(self.alerts.announcer.emit(event, entry, flapping, routes))
        return n

    def _announced(self, inc: Any) -> bool:
        """A reminder follows its DOWN: not before the transition that opened the incident was handled."""
        if inc.opened_by is None:
            return True
        t = self.rt.store.transitions.get(inc.opened_by)
        return t is None or t.status != "pending"

    def warn_certificates(self) -> int:
        """One notice per certificate per warnDays threshold it crosses (checkers put it in details.cert)."""
        cfg, now, n = self.alerts.config(), self.rt.clock(), 0
        if not any("certificateExpiring" in p.spec.triggers for p in cfg.policies):
            return 0
        for uid, st in self.rt.store.checks.states().items():
            event = ev.certificate_event(uid, st.state, (st.details or {}).get("cert") or {}, now)
            if event is None or self.rt.store.deliveries.exists(event.key):
                continue
            entry = self.rt.catalog.monitor(uid)
            if entry is not None:
                n += len(self.alerts.announcer.emit(event, entry))
        return n

    def settle_flapping(self) -> int:
        """Flapping ends between transitions (the checks calm down), so it is re-evaluated here."""
        n = 0
        # Only monitors whose status ever mentioned flapping are read: not every Monitor each minute.
        for uid, status in self.rt.store.resources.statuses_mentioning("Monitor", "flapping").items():
            if not (status.get("flapping") or {}).get("active"):
                continue
            entry = self.rt.catalog.monitor(uid)
            if entry is None:
                continue
            beats = self.rt.store.checks.heartbeats(uid, flap.HISTORY)
            reason = beats[0].reason if beats else ""
            if not self.alerts.announcer.update_flapping(
                entry, [h.state for h in beats], self.rt.clock(), reason
            ):
                n += 1
        return n

    def probe_providers(self) -> int:
        """Probe providers never tested, changed since, or last tested PROBE_EVERY_S ago (on a worker)."""
        now, n = self.rt.clock(), 0
        for rec in self.rt.store.resources.list(kind="NotificationProvider"):
            if rec.spec is not None and dispatch.probe_due(rec.status, rec.generation, now, PROBE_EVERY_S):
                self.alerts.probe_provider.send(rec.uid)
                n += 1
        return n

    # -- history -------------------------------------------------------------------------------
    def prune(self) -> int:
        store = self.rt.store
        settings = store.resources.list(kind="KubeKumaSettings")
        plan = retention_plan(self.rt.clock(), heartbeat_retention(settings), retention_settings(settings))
        n = store.checks.prune_heartbeats(plan.heartbeats)
        store.rollups.prune(plan.rollups)
        if plan.deliveries is not None:
            n += store.deliveries.prune(plan.deliveries)
        if plan.incidents is not None:
            n += store.incidents.prune(plan.incidents)
        if plan.audit is not None:
            n += store.incidents.prune_audit(plan.audit)
        n += store.checks.prune_forgotten()
        n += self._prune_access(settings)
        return n

    def _prune_access(self, settings: list[Any]) -> int:
        """Sessions past their idle or absolute limit, and failed-login counters a day old."""
        now = self.rt.clock()
        auth = next((s.spec.get("auth") or {} for s in settings if s.name == "default" and s.spec), {})
        try:
            parsed = AuthSettings.model_validate(auth)
        except ValidationError:
            parsed = AuthSettings()
        store = self.rt.store
        n = store.sessions.prune(now - timedelta(seconds=parsed.sessionIdleTimeout),
                                 now - timedelta(seconds=parsed.sessionMaxAge))  # fmt: skip
        return n + store.throttle.prune(now - timedelta(days=1))


def periodic_jobs(actors: Actors, alerts: AlertActors) -> list[Job]:
    return Housekeeping(actors, alerts).jobs()
