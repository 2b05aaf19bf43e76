"""From an event to delivery rows: flapping, routing, suppression, and the rows that remember it all.

`on_transition` (a TransitionHook, run once per transition) updates flapping and, when the
check opened or closed an incident, plans that news with the pure functions of
`app.alerting`; `emit` writes one row per (event, provider) and enqueues `deliver` for the
rows that are pending. A DOWN whose incident was over before it was handled is recorded
as `superseded`, so a muted or stale alert is visible, never silently lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from app.actors.runtime import Runtime
from app.actors.transitions import superseded
from app.alerting import events as ev
from app.alerting import flapping as flap
from app.alerting.config import AlertConfig
from app.alerting.events import AlertEvent, EventKind
from app.alerting.plan import Planned, plan, plan_routes
from app.alerting.routing import Route
from app.alerting.templates import safe_url
from app.model import DeliveryStatus
from app.notifiers import style
from app.resources.common import format_duration
from app.store import IncidentView, TransitionView

log = logging.getLogger(__name__)


class Announcer:
    def __init__(
        self, rt: Runtime, config: Callable[[], AlertConfig], send: Callable[[int, dict[str, Any]], object],
        thresholds: flap.FlapThresholds | None = None,
    ) -> None:  # fmt: skip
        self.rt, self.config, self.send = rt, config, send
        self.thresholds = thresholds or flap.FlapThresholds()

    def on_transition(self, rt: Runtime, t: TransitionView, incident: IncidentView | None) -> None:
        entry = rt.catalog.monitor(t.monitor_uid)
        if entry is None:
            return
        beats = rt.store.checks.heartbeats(t.monitor_uid, flap.HISTORY)
        flapping = self.update_flapping(entry, [h.state for h in beats], t.at, t.reason)
        latency = beats[0].latency_ms if beats else None
        event = ev.transition_event(
            t.monitor_uid, t.event, t.incident_id, t.from_state, t.to_state, t.at, t.reason, latency,
            incident.duration_s if incident else None,
        )  # fmt: skip
        if event is not None:
            self.emit(event, entry, flapping, stale=superseded(t, incident))

    def emit(
        self, event: AlertEvent, entry: Any, flapping: bool = False, routes: list[Route] | None = None,
        stale: str = "",
    ) -> list[int]:  # fmt: skip
        """Plan, record and enqueue the deliveries of one event. Returns the ids enqueued."""
        now = self.rt.clock()
        cfg = self.config()
        url = safe_url(entry.spec.target())
        if routes is None:
            planned = plan(event, entry, url, cfg, now, flapping, style)
        else:
            planned = plan_routes(event, entry, url, routes, cfg, now, flapping, style)
        facts = {"state": event.state, "previousState": event.previous_state, "reason": event.reason,
                 "latencyMs": event.latency_ms, "url": url, "extra": event.extra}  # fmt: skip
        sent = []
        for p in planned:
            status, why = p.status, p.reason
            if status == DeliveryStatus.PENDING:
                if stale:
                    status, why = DeliveryStatus.SUPERSEDED, stale
                else:
                    why = self._duplicate(event, entry.uid, p, now)
                    status = DeliveryStatus.SUPPRESSED if why else status
            row, _ = self.rt.store.deliveries.create(event.key, p.provider.uid, entry.uid, event.kind.value,
                                                     status, p.title, p.body, now, why,
                                                     event.incident_id)  # fmt: skip
            if (
                row.status == DeliveryStatus.PENDING
            ):  # also when an earlier run made the row but died before enqueuing
                self.send(row.id, facts)
                sent.append(row.id)
            elif status == DeliveryStatus.FAILED:  # a broken route: visible, never silent
                log.warning("%s %s via policy %s: %s", entry.key, event.kind, p.policy.key, why)
            elif status != DeliveryStatus.PENDING:
                log.info("%s %s to %s %s: %s", entry.key, event.kind, p.provider.key, status, why)
        return sent

    def _duplicate(self, event: AlertEvent, uid: str, p: Planned, now: datetime) -> str:
        """The dedupWindow: the same kind of notice to the same provider a moment ago."""
        window = p.policy.spec.dedupWindow
        if window <= 0 or event.kind == EventKind.REMINDER:
            return ""
        repo = self.rt.store.deliveries
        last = repo.last_live(uid, p.provider.uid, event.kind.value, now - timedelta(seconds=window))
        if last is not None and last.event_key != event.key:
            return f"duplicate of delivery {last.id} within dedupWindow {format_duration(window)}"
        return ""

    def update_flapping(self, entry: Any, states: list[str], at: datetime, reason: str = "") -> bool:
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

    def is_flapping(self, uid: str) -> bool:
        rec = self.rt.store.resources.get_uid(uid)
        return bool(rec and (rec.status.get("flapping") or {}).get("active"))
