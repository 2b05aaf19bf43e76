"""Alert events: what may be worth a message, named once so routing, templates and deliveries agree.

A state change becomes at most one event (`transition_event`); reminders, flapping notices and
certificate warnings are events too, made by periodic jobs. Every event carries a key that is
the same however often it is produced, so the delivery row keyed on (event key, provider)
makes a redelivered or re-swept event send nothing twice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class EventKind(enum.StrEnum):
    DOWN = "down"
    UP = "up"
    REMINDER = "reminder"
    FLAPPING = "flapping"
    FLAPPING_ENDED = "flappingEnded"
    CERTIFICATE = "certificateExpiring"


# The policy trigger that subscribes to each kind of event.
TRIGGER: dict[EventKind, str] = {
    EventKind.DOWN: "down",
    EventKind.REMINDER: "down",
    EventKind.UP: "up",
    EventKind.FLAPPING: "flapping",
    EventKind.FLAPPING_ENDED: "flapping",
    EventKind.CERTIFICATE: "certificateExpiring",
}


@dataclass(slots=True)
class AlertEvent:
    kind: EventKind
    key: str  # stable identity: the same event always has the same key
    monitor_uid: str
    at: datetime
    state: str
    previous_state: str = ""
    reason: str = ""
    latency_ms: float | None = None
    incident_duration_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # daysLeft, expiresAt, issuer, flapPercent
    incident_id: int | None = None  # for an incident's notices (down, up, reminder)

    @property
    def trigger(self) -> str:
        return TRIGGER[self.kind]


def transition_event(
    monitor_uid: str, event: str | None, incident_id: int | None, from_state: str | None, to_state: str,
    at: datetime, reason: str, latency_ms: float | None = None, incident_duration_s: float | None = None,
) -> AlertEvent | None:  # fmt: skip
    """The news of a state change: what the check did to the incident, not which states it joined.

    An incident opening is a DOWN and its closing an UP; PENDING, MAINTENANCE and a monitor that
    stays down through them are not news (the check that recorded the change decided which it
    was, under the state row's lock). Keyed by the incident, so its UP can find its DOWN."""
    if event not in (EventKind.DOWN, EventKind.UP) or incident_id is None:
        return None
    kind = EventKind(event)
    return AlertEvent(kind, incident_key(incident_id, kind), monitor_uid, at, to_state, from_state or "",
                      reason, latency_ms, incident_duration_s, incident_id=incident_id)  # fmt: skip


def incident_key(incident_id: int, kind: EventKind) -> str:
    return f"i:{incident_id}:{kind.value}"


def reminder_key(incident_id: int, policy_uid: str, number: int) -> str:
    """Each policy reminds on its own schedule: the key names the policy and the reminder's number."""
    return f"r:{incident_id}:{policy_uid[:36]}:{number}"


def reminder_number(opened_at: datetime, now: datetime, repeat_s: float) -> int:
    """How many reminders are due by `now` (0 = none yet): one per full `repeat_s` while DOWN."""
    if repeat_s <= 0:
        return 0
    return int((now - opened_at).total_seconds() // repeat_s)


def certificate_key(monitor_uid: str, fingerprint: str, threshold: int) -> str:
    """Once per warning threshold per certificate: a renewed certificate starts over."""
    return f"c:{monitor_uid}:{fingerprint[:16]}:{threshold}"


def reminder_event(incident_id: int, monitor_uid: str, opened_at: datetime, reason: str, policy_uid: str,
                   repeat_s: float, now: datetime) -> AlertEvent | None:  # fmt: skip
    """The reminder due now for an open incident under one policy's repeatInterval, or None."""
    number = reminder_number(opened_at, now, repeat_s)
    if number < 1:
        return None
    key = reminder_key(incident_id, policy_uid, number)
    duration = (now - opened_at).total_seconds()
    return AlertEvent(EventKind.REMINDER, key, monitor_uid, now, "DOWN", "DOWN", reason, None, duration,
                      incident_id=incident_id)  # fmt: skip


def certificate_event(monitor_uid: str, state: str, cert: dict[str, Any], now: datetime) -> AlertEvent | None:
    """A warning for a certificate past one of its warnDays thresholds (`cert` is a check's details.cert)."""
    if "warn" not in cert:
        return None
    fingerprint = str(cert.get("sha256") or cert.get("expiresAt") or "")
    days, warn = cert.get("daysLeft"), int(cert["warn"])
    extra = {"daysLeft": days, "expiresAt": cert.get("expiresAt"), "issuer": cert.get("issuer", "")}
    key = certificate_key(monitor_uid, fingerprint, warn)
    reason = f"certificate expires in {days} day{'' if days == 1 else 's'} (warning at {warn} days)"
    return AlertEvent(EventKind.CERTIFICATE, key, monitor_uid, now, state, reason=reason, extra=extra)


def flapping_event(started: bool, monitor_uid: str, episode: str, state: str, reason: str, percent: float,
                   now: datetime) -> AlertEvent:  # fmt: skip
    """A flapping notice; both notices of one episode are keyed by its start, so each goes out once."""
    kind = EventKind.FLAPPING if started else EventKind.FLAPPING_ENDED
    key = f"{'f' if started else 'fe'}:{monitor_uid}:{episode}"
    return AlertEvent(kind, key, monitor_uid, now, state, reason=reason, extra={"flapPercent": percent})
