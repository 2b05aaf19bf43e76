"""Typed, cached reads of the resource cache for the hot paths (worker, scheduler, web).

Parsing a Monitor's spec on every check would cost more than the check bookkeeping;
the catalog re-reads the cache only when its revision moves, at most once per `ttl`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.resources.monitor import MonitorSpec
from app.store import ResourceRecord, Store


@dataclass(slots=True)
class MonitorEntry:
    uid: str
    namespace: str
    name: str
    generation: int
    labels: dict[str, str]
    spec: MonitorSpec
    valid: bool
    status: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


class Catalog:
    def __init__(self, store: Store, ttl: float = 1.0) -> None:
        self.store = store
        self.ttl = ttl
        self._lock = threading.Lock()
        self._revision = -1
        self._checked = 0.0
        self._monitors: dict[str, MonitorEntry] = {}
        self._by_name: dict[tuple[str, str], str] = {}

    def _entry(self, rec: ResourceRecord) -> MonitorEntry | None:
        if rec.spec is None:
            return None
        try:
            spec = MonitorSpec.model_validate(rec.spec)
        except ValidationError:
            return None
        return MonitorEntry(
            rec.uid, rec.namespace, rec.name, rec.generation, rec.labels, spec, rec.valid, rec.status
        )

    def refresh(self, force: bool = False) -> bool:
        """Reload when the cache's revision moved. Returns True when it did."""
        now = time.monotonic()
        with self._lock:
            if not force and now - self._checked < self.ttl:
                return False
            self._checked = now
            rev = self.store.resources.revision()
            if rev == self._revision and not force:
                return False
            monitors: dict[str, MonitorEntry] = {}
            for rec in self.store.resources.list(kind="Monitor"):
                entry = self._entry(rec)
                if entry is not None:
                    monitors[rec.uid] = entry
            self._monitors = monitors
            self._by_name = {(m.namespace, m.name): m.uid for m in monitors.values()}
            self._revision = rev
            return True

    @property
    def revision(self) -> int:
        return self._revision

    def snapshot(self) -> tuple[int, list[MonitorEntry]]:
        """The revision and the monitors it describes, read together."""
        self.refresh()
        with self._lock:
            return self._revision, list(self._monitors.values())

    def monitors(self) -> list[MonitorEntry]:
        self.refresh()
        return list(self._monitors.values())

    def monitor(self, uid: str) -> MonitorEntry | None:
        self.refresh()
        entry = self._monitors.get(uid)
        if entry is None:  # created a moment ago: don't wait out the ttl
            self.refresh(force=True)
            entry = self._monitors.get(uid)
        return entry

    def by_name(self, namespace: str, name: str) -> MonitorEntry | None:
        self.refresh()
        uid = self._by_name.get((namespace, name))
        return self._monitors.get(uid) if uid else None
