"""How long each kind of history is kept: by the settings, and rollups by `KEEP`.

Raw heartbeats feed only the monitor detail view and its heartbeat list; everything a
visitor sees comes from rollups, so heartbeats can be pruned early (the default is
30 days, `KubeKumaSettings.spec.retention.heartbeats`) while day rollups keep two years.
Closed incidents with their transitions, deliveries and audit events have their own
durations in `retention`; the history of a deleted monitor goes at the next prune.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from app.resources.kinds import KubeKumaSettingsSpec, Retention
from app.uptime.windows import KEEP

DEFAULT_HEARTBEATS = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    heartbeats: datetime  # raw heartbeats before this go
    rollups: dict[str, datetime]  # buckets of each resolution before this go
    incidents: datetime | None = None  # closed incidents (and finished transitions) before this go
    deliveries: datetime | None = None
    audit: datetime | None = None


def retention_settings(settings: Iterable[Any]) -> Retention:
    """`retention` of the KubeKumaSettings named "default" (records with .name and .spec)."""
    for rec in settings:
        if getattr(rec, "name", None) != "default" or not getattr(rec, "spec", None):
            continue
        try:
            return KubeKumaSettingsSpec.model_validate(rec.spec).retention
        except ValidationError:
            break
    return Retention()


def heartbeat_retention(settings: Iterable[Any]) -> timedelta:
    keep = retention_settings(settings).heartbeats
    return timedelta(seconds=keep) if keep else DEFAULT_HEARTBEATS


def retention_plan(now: datetime, heartbeats: timedelta = DEFAULT_HEARTBEATS,
                   keep: Retention | None = None) -> RetentionPlan:  # fmt: skip
    rollups = {res: now - k for res, k in KEEP.items()}
    if keep is None:
        return RetentionPlan(now - heartbeats, rollups)

    def cut(seconds: float) -> datetime | None:
        return now - timedelta(seconds=seconds) if seconds else None

    return RetentionPlan(
        now - heartbeats, rollups, cut(keep.incidents), cut(keep.deliveries), cut(keep.audit)
    )
