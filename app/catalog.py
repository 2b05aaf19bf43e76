"""Typed, cached reads of the resource cache for the hot paths (worker, scheduler, web).

Parsing a Monitor's spec on every check would cost more than the check bookkeeping;
the catalog re-reads the cache only when its revision moves, at most once per `ttl`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from app.resources.monitor import MonitorSpec
from app.store import ResourceRecord, Store

log = logging.getLogger(__name__)


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
    spec_hash: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


class Catalog:
    def __init__(self, store: Store, ttl: float = 1.0) -> None:
        self.store = store
        self.ttl = ttl
        self._lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._revision = -1
        self._checked = 0.0
        self._monitors: dict[str, MonitorEntry] = {}
        self._by_name: dict[tuple[str, str], str] = {}
        self._complained = 0.0

    def _entry(self, rec: ResourceRecord) -> MonitorEntry | None:
        if rec.spec is None:
            return None
        try:
            spec = MonitorSpec.model_validate(rec.spec)
        except ValidationError:
            return None
        return MonitorEntry(
            rec.uid,
            rec.namespace,
            rec.name,
            rec.generation,
            rec.labels,
            spec,
            rec.valid,
            rec.status,
            rec.spec_hash,
        )

    def refresh(self, force: bool = False) -> bool:
        """Reload when the cache's revision moved. Returns True when it did.

        When the database cannot be read the catalog keeps serving what it has: checks go on
        during a database outage and their results wait in the worker's retries, not here.
        """
        try:
            return self._refresh(force)
        except Exception as exc:
            now = time.monotonic()
            if now - self._complained > 10:
                self._complained = now
                log.warning("catalog: cannot read the resource cache (%s); serving the last one", exc)
            return False

    def _refresh(self, force: bool) -> bool:
        """Reload when the cache's revision moved. Returns True when it did.

        Readers never wait on a reload: the new maps are built outside the lock (reusing the
        parsed spec of every monitor whose spec did not change) and swapped in at the end.
        """
        now = time.monotonic()
        with self._lock:
            if not force and now - self._checked < self.ttl:
                return False
            self._checked = now
        with self._reload_lock:
            rev = self.store.resources.revision()
            if rev == self._revision and not force:
                return False
            old = self._monitors
            monitors: dict[str, MonitorEntry] = {}
            for rec in self.store.resources.list(kind="Monitor"):
                prev = old.get(rec.uid)
                if prev is not None and rec.spec_hash and prev.spec_hash == rec.spec_hash:
                    entry: MonitorEntry | None = replace(
                        prev, generation=rec.generation, labels=rec.labels, valid=rec.valid, status=rec.status
                    )
                else:
                    entry = self._entry(rec)
                if entry is not None:
                    monitors[rec.uid] = entry
            by_name = {(m.namespace, m.name): m.uid for m in monitors.values()}
            with self._lock:
                self._monitors, self._by_name, self._revision = monitors, by_name, rev
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
        if entry is None:
            # Created a moment ago: don't wait out the ttl. A deleted monitor's leftover
            # messages cost one indexed read each, not a reload.
            try:
                moved = self.store.resources.revision() != self._revision
            except Exception:
                moved = False
            if moved:
                self.refresh(force=True)
                entry = self._monitors.get(uid)
        return entry

    def by_name(self, namespace: str, name: str) -> MonitorEntry | None:
        self.refresh()
        uid = self._by_name.get((namespace, name))
        return self._monitors.get(uid) if uid else None
