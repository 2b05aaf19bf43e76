"""The alerting pipeline's actors, wired together: the config cache, the announcer and the sender.

`on_transition` (from `announce`) turns a state change into delivery rows; `deliver`
(from `deliver`) sends one row; `probe_provider` tests a provider's connectivity. Their
periodic jobs live with every other one in `periodic`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dramatiq

from app.actors import deliver as sending
from app.actors.announce import Announcer
from app.actors.broker import ALERT_QUEUE
from app.actors.runtime import Runtime
from app.alerting.config import KINDS, AlertConfig, build_config
from app.catalog import RevisionCache
from app.notifiers import dispatch
from app.store import IncidentView, TransitionView

log = logging.getLogger(__name__)


class AlertCache(RevisionCache[AlertConfig]):
    """The alerting kinds, parsed once per resource-cache revision (checked at most every `ttl`).

    When the database cannot be read, the last configuration stays in use: a check must not be
    dropped because the maintenance lookup could not ask whether anything changed."""

    def __init__(self, store: Any, ttl: float = 1.0) -> None:
        def build(revision: int, _old: AlertConfig) -> AlertConfig:
            return build_config([r for kind in KINDS for r in store.resources.list(kind=kind)], revision)

        super().__init__("alerting", store.resources.revision, build, AlertConfig(), ttl)


@dataclass
class AlertActors:
    rt: Runtime
    cache: AlertCache
    announcer: Announcer = field(init=False)
    sender: sending.Sender = field(init=False)
    deliver: dramatiq.Actor = field(init=False)
    probe_provider: dramatiq.Actor = field(init=False)

    def __post_init__(self) -> None:
        self.sender = sending.Sender(self.rt)
        self.sender.on_health = self.set_provider_health
        self.announcer = Announcer(self.rt, self.cache.get, lambda did, facts: self.deliver.send(did, facts))

    def config(self) -> AlertConfig:
        return self.cache.get()

    # asked by check_monitor for every check
    def in_maintenance(self, entry: Any, now: datetime) -> bool:
        return self.cache.get().maintenance(entry, now) is not None

    # the TransitionHook
    def on_transition(self, rt: Runtime, t: TransitionView, incident: IncidentView | None) -> None:
        self.announcer.on_transition(rt, t, incident)

    def run_delivery(self, delivery_id: int, facts: dict[str, Any] | None = None) -> str | None:
        return self.sender.run(delivery_id, facts)

    def run_probe(self, provider_uid: str) -> dict[str, Any] | None:
        provider = self.sender.provider(provider_uid)
        if provider is None:
            return None
        ctx = dispatch.context(provider, self.rt.secrets, self.rt.session())
        try:
            tested = dispatch.probe(provider, ctx)
            healthy, error, test = True, "", "connectivity" if tested else "configuration"
        except Exception as exc:
            healthy, error, test = False, str(dispatch.safe_error(exc, ctx)), "connectivity"
        return self.set_provider_health(provider.uid, healthy, error, test, provider.generation)

    def set_provider_health(self, uid: str, healthy: bool, error: str, test: str | None = None,
                            generation: int | None = None) -> dict[str, Any] | None:  # fmt: skip
        rec = self.rt.store.resources.get_uid(uid)
        if rec is None:
            return None
        status = dispatch.health_status(rec.status, healthy, error, self.rt.clock(), test, generation)
        self.rt.store.resources.set_status(uid, status)
        return status


def register_alert_actors(
    broker: dramatiq.Broker, rt: Runtime, cache: AlertCache | None = None
) -> AlertActors:
    """Declare `deliver` and `probe_provider` on the alerts queue of `broker`."""
    alerts = AlertActors(rt, cache or AlertCache(rt.store))

    def deliver(delivery_id: int, facts: dict[str, Any] | None = None) -> None:
        alerts.run_delivery(delivery_id, facts)

    def probe_provider(provider_uid: str) -> None:
        alerts.run_probe(provider_uid)

    # No Dramatiq retries: the sender schedules each next attempt itself and records it in the row.
    alerts.deliver = dramatiq.actor(
        actor_name="deliver", queue_name=ALERT_QUEUE, broker=broker, max_retries=0,
        time_limit=sending.TIME_LIMIT_MS,
    )(deliver)  # fmt: skip
    alerts.sender.deliver = alerts.deliver
    alerts.probe_provider = dramatiq.actor(
        actor_name="probe_provider", queue_name=ALERT_QUEUE, broker=broker, max_retries=0, time_limit=60_000,
    )(probe_provider)  # fmt: skip
    return alerts
