"""Value types every layer shares: monitor states, failure classes and a check's result.

They sit at the bottom of the layer stack so that checkers (which produce results),
the pure alerting functions (which decide on them) and the store (which records
them) can all speak of the same thing without importing each other.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def utc_now() -> datetime:
    """The default clock; everything that needs time takes a clock argument instead of calling this."""
    return datetime.now(UTC)


class State(enum.StrEnum):
    UP = "UP"
    DOWN = "DOWN"
    PENDING = "PENDING"
    MAINTENANCE = "MAINTENANCE"


class FailureClass(enum.StrEnum):
    """Why a check failed, coarse enough to route on and fine enough to act on."""

    TIMEOUT = "timeout"
    DNS = "dns"
    REFUSED = "refused"
    RESET = "reset"
    UNREACHABLE = "unreachable"
    TLS = "tls"
    CERTIFICATE = "certificate"
    STATUS = "status"
    KEYWORD = "keyword"
    JSON = "json"
    PROTOCOL = "protocol"
    MISMATCH = "mismatch"
    PERMISSION = "permission"
    AUTH = "auth"  # the server rejected our credentials
    CONFIG = "config"
    NOT_READY = "not_ready"
    NO_PUSH = "no_push"
    PUSHED_DOWN = "pushed_down"
    ERROR = "error"


class TransitionStatus(enum.StrEnum):
    """Where a state change stands on its way to the alert path."""

    PENDING = "pending"  # recorded, not yet handled (or being handled: see its claim)
    HANDLED = "handled"  # routed: its deliveries exist
    SUPERSEDED = "superseded"  # the monitor moved on before it was handled; nothing stale was sent
    FAILED = "failed"  # gave up after its attempts; the note says why


class DeliveryStatus(enum.StrEnum):
    """One message to one provider."""

    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # an attempt is under way (claimed)
    SENT = "sent"
    FAILED = "failed"  # a permanent error, or out of attempts
    SUPPRESSED = "suppressed"  # muted on purpose: silence, maintenance, flapping, nothing to recover from
    SUPERSEDED = "superseded"  # stale before it could go: its incident had recovered

    @property
    def final(self) -> bool:
        return self not in (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


@dataclass(slots=True)
class CheckResult:
    """What one check saw. `ok` is before upside-down inversion; the state machine applies it."""

    ok: bool
    latency_ms: float | None = None
    reason: str = ""
    failure: FailureClass | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def up(cls, latency_ms: float | None = None, reason: str = "", **details: Any) -> CheckResult:
        return cls(True, latency_ms, reason, None, dict(details))

    @classmethod
    def down(
        cls, failure: FailureClass, reason: str, latency_ms: float | None = None, **details: Any
    ) -> CheckResult:
        return cls(False, latency_ms, reason, failure, dict(details))


@dataclass(slots=True)
class MonitorSnapshot:
    """A monitor's current state as the state machine sees it."""

    state: State
    since: Any  # datetime of the last state change
    failures: int = 0  # consecutive failed checks
    reason: str = ""
    failure: FailureClass | None = None


@dataclass(slots=True)
class Decision:
    """What `next_state` decided: the new snapshot, and the transition if the state changed."""

    snapshot: MonitorSnapshot
    changed: bool
    previous: State | None
    ok: bool  # the result after upside-down inversion
