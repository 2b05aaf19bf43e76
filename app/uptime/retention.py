"""How long each kind of history is kept: raw heartbeats by the settings, rollups by `KEEP`.

Raw heartbeats feed only the monitor detail view and its heartbeat list; everything a
visitor sees comes from rollups, so heartbeats can be pruned early (the default is
30 days, `KubeKumaSettings.spec.retention.heartbeats`) while day rollups keep two years.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from app.resources.kinds import KubeKumaSettingsSpec
from app.uptime.windows import KEEP

DEFAULT_HEARTBEATS = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    heartbeats: datetime  # raw heartbeats before this go
    rollups: dict[str, datetime]  # buckets of each resolution before this go


def heartbeat_retention(settings: Iterable[Any]) -> timedelta:
    """`retention.heartbeats` of the KubeKumaSettings named "default" (records with .name and .spec)."""
    for rec in settings:
        if getattr(rec, "name", None) != "default" or not getattr(rec, "spec", None):
            continue
        try:
            spec = KubeKumaSettingsSpec.model_validate(rec.spec)
        except ValidationError:
            break
        keep = spec.retention.heartbeats
        return timedelta(seconds=keep) if keep else DEFAULT_HEARTBEATS
    return DEFAULT_HEARTBEATS


def retention_plan(now: datetime, heartbeats: timedelta = DEFAULT_HEARTBEATS) -> RetentionPlan:
    return RetentionPlan(now - heartbeats, {res: now - keep for res, keep in KEEP.items()})
