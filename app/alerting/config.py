"""The alerting kinds as typed, pre-parsed views: policies, providers, silences and maintenance windows.

Built from resource-cache records (anything with uid, kind, namespace, name, spec,
generation and status) once per cache revision, so routing a transition or asking
"is this monitor in maintenance?" on every check parses nothing. A record whose spec does
not validate is left out: the controller reports it; alerting never guesses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from app.alerting.maintenance import WindowView, covering
from app.alerting.routing import MonitorLike, PolicyView, ProviderView, sort_policies
from app.alerting.silences import SilenceView, silencing
from app.resources.kinds import (
    MaintenanceWindowSpec,
    NotificationPolicySpec,
    NotificationProviderSpec,
    SilenceSpec,
)

log = logging.getLogger(__name__)

KINDS = ("NotificationPolicy", "NotificationProvider", "Silence", "MaintenanceWindow")


class RecordLike(Protocol):
    uid: str
    kind: str
    namespace: str
    name: str
    spec: dict[str, Any] | None
    generation: int
    status: dict[str, Any]


@dataclass(slots=True)
class AlertConfig:
    policies: list[PolicyView] = field(default_factory=list)  # sorted: priority, namespace, name
    providers: dict[tuple[str, str], ProviderView] = field(default_factory=dict)
    silences: list[SilenceView] = field(default_factory=list)
    windows: list[WindowView] = field(default_factory=list)
    revision: int = -1
    by_uid: dict[str, ProviderView] = field(default_factory=dict)

    def provider(self, uid: str) -> ProviderView | None:
        return self.by_uid.get(uid)

    def maintenance(self, monitor: MonitorLike, now: datetime) -> WindowView | None:
        return covering(self.windows, monitor, now)

    def silence(self, monitor: MonitorLike, now: datetime) -> SilenceView | None:
        return silencing(self.silences, monitor, now)


def build_config(records: Iterable[RecordLike], revision: int = -1) -> AlertConfig:
    cfg = AlertConfig(revision=revision)
    policies = []
    for rec in sorted(records, key=lambda r: (r.namespace, r.name)):
        if rec.spec is None:
            continue
        try:
            if rec.kind == "NotificationPolicy":
                policies.append(PolicyView(rec.uid, rec.namespace, rec.name,
                                           NotificationPolicySpec.model_validate(rec.spec)))  # fmt: skip
            elif rec.kind == "NotificationProvider":
                spec = NotificationProviderSpec.model_validate(rec.spec)
                cfg.providers[(rec.namespace, rec.name)] = ProviderView(
                    rec.uid, rec.namespace, rec.name, spec.type, spec.enabled, spec.settings, rec.generation,
                    dict(rec.status or {}),
                )  # fmt: skip
            elif rec.kind == "Silence":
                cfg.silences.append(SilenceView(rec.uid, rec.namespace, rec.name,
                                                SilenceSpec.model_validate(rec.spec)))  # fmt: skip
            elif rec.kind == "MaintenanceWindow":
                cfg.windows.append(WindowView(rec.uid, rec.namespace, rec.name,
                                              MaintenanceWindowSpec.model_validate(rec.spec)))  # fmt: skip
        except (ValidationError, ValueError) as exc:
            log.warning("%s %s/%s left out of alerting: %s", rec.kind, rec.namespace, rec.name, exc)
    cfg.policies = sort_policies(policies)
    cfg.by_uid = {p.uid: p for p in cfg.providers.values()}
    return cfg
