"""Sending one stored delivery and probing one provider, whatever their types.

The alert actors call these with a provider (as the resource cache holds it) and the
delivery row; this module turns them into a `Message`, finds the notifier, validates its
settings and hands over the Secrets. Every error that leaves here is a `NotifierError`
with text that is safe to log and store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import requests

from app.alerting.routing import ProviderView
from app.notifiers import notifier
from app.notifiers.base import Message, NotifierError, NotifyContext, Secrets

# What an event says about the state when the sender's facts are lost (a swept delivery).
_STATE = {"down": "DOWN", "reminder": "DOWN", "up": "UP"}


class DeliveryLike(Protocol):
    id: int
    event_key: str
    monitor_uid: str | None
    event: str
    title: str
    body: str
    created_at: datetime


class MonitorLike(Protocol):
    name: str
    namespace: str
    labels: dict[str, str]


def message_from(row: DeliveryLike, facts: dict[str, Any] | None, monitor: MonitorLike | None) -> Message:
    """The message of a delivery row; `facts` (state, reason, url, ...) travel with the actor message."""
    f = facts or {}
    return Message(
        event=row.event, title=row.title, body=row.body,
        monitor=monitor.name if monitor else f.get("monitorName", row.monitor_uid or ""),
        namespace=monitor.namespace if monitor else f.get("namespace", ""),
        monitor_uid=row.monitor_uid or "", time=row.created_at, key=f"{row.event_key}/{row.id}",
        state=f.get("state") or _STATE.get(row.event, ""), previous_state=f.get("previousState", ""),
        reason=f.get("reason", ""), url=f.get("url", ""), latency_ms=f.get("latencyMs"),
        labels=dict(monitor.labels) if monitor else {}, extra=dict(f.get("extra") or {}),
    )  # fmt: skip


def context(provider: ProviderView, secrets: Secrets, session: requests.Session) -> NotifyContext:
    return NotifyContext(namespace=provider.namespace, secrets=secrets, session=session)


def send(provider: ProviderView, msg: Message, ctx: NotifyContext) -> None:
    n = notifier(provider.type)
    n.send(msg, n.parse(provider.settings), ctx)


def probe(provider: ProviderView, ctx: NotifyContext) -> bool:
    """True when a connectivity test passed, False when the service has none; raises on failure."""
    n = notifier(provider.type)
    return n.probe(n.parse(provider.settings), ctx)


def safe_error(exc: BaseException, ctx: NotifyContext) -> NotifierError:
    """Any exception as a NotifierError whose text carries no secret (a bug is treated as transient)."""
    if isinstance(exc, NotifierError):
        return NotifierError(ctx.redact(str(exc)), exc.permanent, exc.maybe_delivered)
    return NotifierError(ctx.redact(f"internal error: {type(exc).__name__}: {exc}")[:500])


def health_status(old: dict[str, Any], healthy: bool, error: str, now: datetime,
                  test: str | None = None, generation: int | None = None) -> dict[str, Any]:  # fmt: skip
    """The provider's status with its health merged in; conditions and everything else are kept."""
    status = dict(old)
    status.update(healthy=healthy, lastError=error, lastTestTime=now.isoformat())
    if test is not None:
        status["test"] = test  # connectivity, or configuration when the service offers no silent test
    if generation is not None:
        status["testedGeneration"] = generation
    return status


def probe_due(status: dict[str, Any], generation: int, now: datetime, every_s: float) -> bool:
    """Never tested, changed since the last test, or tested longer than `every_s` ago."""
    last = status.get("lastTestTime")
    if last is None or status.get("testedGeneration") != generation:
        return True
    try:
        return (now - datetime.fromisoformat(last)).total_seconds() >= every_s
    except (TypeError, ValueError):
        return True
