"""Typed, cached reads of the resource cache for the hot paths (worker, scheduler, web).

Parsing a Monitor's spec on every check would cost more than the check bookkeeping;
the catalog re-reads the cache only when its revision moves, at most once per `ttl`.
`RevisionCache` is that policy, once, for everything built from the resource cache.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from app.resources.interning import Interner
from app.resources.monitor import MonitorSpec
from app.store import ResourceRecord, Store

log = logging.getLogger(__name__)
T = TypeVar("T")


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


class RevisionCache(Generic[T]):
    """A value built from the resource cache, rebuilt only when the cache's revision moved.

    The one way every hot path follows the resource cache (the monitor catalog, the alerting
    configuration, the status pages): the revision is read at most every `ttl`, readers never
    wait on a rebuild (the value in hand keeps serving until the new one is swapped in), and
    a database that cannot be read keeps the last value, so checks go on during an outage.
    `build(revision, previous)` may reuse parts of the previous value."""

    def __init__(self, name: str, revision: Callable[[], int], build: Callable[[int, T], T], initial: T,
                 ttl: float = 1.0) -> None:  # fmt: skip
        self.name, self._read_revision, self._build, self.ttl = name, revision, build, ttl
        self.value = initial
        self.revision = -1
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._checked = 0.0
        self._complained = 0.0

    def get(self) -> T:
        self.refresh()
        return self.value

    def refresh(self, force: bool = False) -> bool:
        """Rebuild when the revision moved (or `force`). Returns True when it did."""
        now = time.monotonic()
        with self._lock:
            # Until a first value is built, nobody is served the empty initial one: a thread that
            # arrives while another builds waits for it (below) instead of routing to no policy.
            if not force and self.revision >= 0 and now - self._checked < self.ttl:
                return False
            self._checked = now
        try:
            with self._build_lock:
                rev = self._read_revision()
                if rev == self.revision and not force:
                    return False
                value = self._build(rev, self.value)
                with self._lock:
                    self.value, self.revision = value, rev
                return True
        except Exception as exc:
            if now - self._complained > 10:
                self._complained = now
                log.warning("%s: cannot read the resource cache (%s); serving the last one", self.name, exc)
            return False

    def snapshot(self) -> tuple[int, T]:
        """The revision and the value built from it, read together."""
        self.refresh()
        with self._lock:
            return self.revision, self.value

    def moved(self) -> bool:
        """Whether the cache has changed since the last rebuild (one read; False when unreadable)."""
        try:
            return self._read_revision() != self.revision
        except Exception:
            return False


@dataclass(slots=True)
class _Monitors:
    by_uid: dict[str, MonitorEntry] = field(default_factory=dict)
    by_name: dict[tuple[str, str], str] = field(default_factory=dict)


class Catalog:
    def __init__(self, store: Store, ttl: float = 1.0) -> None:
        self.store = store
        self._cache = RevisionCache("catalog", store.resources.revision, self._build, _Monitors(), ttl)

    @property
    def ttl(self) -> float:
        return self._cache.ttl

    def _entry(self, rec: ResourceRecord, shared: Interner) -> MonitorEntry | None:
        if rec.spec is None:
            return None
        try:
            spec = MonitorSpec.model_validate(rec.spec)
        except ValidationError:
            return None
        return MonitorEntry(
            rec.uid,
            shared.share(rec.namespace),
            rec.name,
            rec.generation,
            shared.share(rec.labels),
            shared.share(spec),
            rec.valid,
            shared.share(rec.status),
            rec.spec_hash,
        )

    def _build(self, revision: int, old: _Monitors) -> _Monitors:
        """Reuses the parsed spec of every monitor whose spec did not change. Equal parts of the
        new specs, labels and statuses are shared (`Interner`): the catalog is most of a process's
        memory at 100k monitors."""
        monitors: dict[str, MonitorEntry] = {}
        shared = Interner()
        for rec in self.store.resources.list(kind="Monitor"):
            prev = old.by_uid.get(rec.uid)
            if prev is not None and rec.spec_hash and prev.spec_hash == rec.spec_hash:
                labels = prev.labels if prev.labels == rec.labels else shared.share(rec.labels)
                status = prev.status if prev.status == rec.status else shared.share(rec.status)
                entry: MonitorEntry | None = replace(
                    prev, generation=rec.generation, labels=labels, valid=rec.valid, status=status
                )
            else:
                entry = self._entry(rec, shared)
            if entry is not None:
                monitors[rec.uid] = entry
        return _Monitors(monitors, {(m.namespace, m.name): m.uid for m in monitors.values()})

    def refresh(self, force: bool = False) -> bool:
        """Reload when the cache's revision moved. Returns True when it did."""
        return self._cache.refresh(force)

    @property
    def revision(self) -> int:
        return self._cache.revision

    def snapshot(self) -> tuple[int, list[MonitorEntry]]:
        """The revision and the monitors it describes, read together."""
        revision, value = self._cache.snapshot()
        return revision, list(value.by_uid.values())

    def monitors(self) -> list[MonitorEntry]:
        return list(self._cache.get().by_uid.values())

    def monitor(self, uid: str) -> MonitorEntry | None:
        entry = self._cache.get().by_uid.get(uid)
        if entry is None and self._cache.moved():
            # Created a moment ago: don't wait out the ttl. A deleted monitor's leftover
            # messages cost one indexed read each, not a reload.
            self.refresh(force=True)
            entry = self._cache.value.by_uid.get(uid)
        return entry

    def by_name(self, namespace: str, name: str) -> MonitorEntry | None:
        value = self._cache.get()
        uid = value.by_name.get((namespace, name))
        return value.by_uid.get(uid) if uid else None
