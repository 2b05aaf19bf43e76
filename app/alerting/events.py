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

from app.model import State


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

    @property
    def trigger(self) -> str:
        return TRIGGER[self.kind]


def transition_kind(from_state: str | None, to_state: str) -> EventKind | None:
    """Which state changes are news: entering DOWN, and leaving DOWN for UP.

    PENDING is not news (retries exist to keep it quiet), nor is entering or leaving
    MAINTENANCE (planned), nor a new monitor coming up.
    """
    if to_state == State.DOWN and from_state != State.DOWN:
        return EventKind.DOWN
    if to_state == State.UP and from_state == State.DOWN:
        return EventKind.UP
    return None


def transition_event(
    transition_id: int, monitor_uid: str, from_state: str | None, to_state: str, at: datetime,
    reason: str, latency_ms: float | None = None, incident_id: int | None = None,
    incident_duration_s: float | None = None,
) -> AlertEvent | None:  # fmt: skip
    """The event of a state change, keyed by its incident (so its UP can ask whether its DOWN went out)."""
    kind = transition_kind(from_state, to_state)
    if kind is None:
        return None
    key = incident_key(incident_id, kind) if incident_id is not None else f"t:{transition_id}"
    return AlertEvent(kind, key, monitor_uid, at, to_state, from_state or "", reason, latency_ms,
                      incident_duration_s)  # fmt: skip


def incident_key(incident_id: int, kind: EventKind) -> str:
    return f"i:{incident_id}:{kind.value}"


def reminder_prefix(incident_id: int) -> str:
    return f"r:{incident_id}:"


def reminder_key(incident_id: int, policy_uid: str, number: int) -> str:
    """Each policy reminds on its own schedule: the key names the policy and the reminder's number."""
    return f"{reminder_prefix(incident_id)}{policy_uid[:36]}:{number}"


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
    return AlertEvent(EventKind.REMINDER, key, monitor_uid, now, "DOWN", "DOWN", reason, None, duration)


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


def must_follow(event_key: str) -> str | None:
    """The event that has to reach a provider first: an incident's UP waits while its DOWN is retried."""
    if event_key.startswith("i:") and event_key.endswith(":up"):
        return event_key[: -len("up")] + EventKind.DOWN.value
    return None
