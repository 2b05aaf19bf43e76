"""Status writes to the API: coalesced, prioritised, and skipped when they would change nothing.

The controller says what it *wants* the status fields it owns to be (`want`); a few
writer threads turn that into merge patches on the `/status` subresource. Wanting the
same uid twice before it is written is one write; urgent wants (conditions, a state
change) jump the queue ahead of routine ones (latency, uptime); a want whose fields the
object already shows, or that repeats our own write the watch has not echoed yet, is
dropped. The spec is never written.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.resources.common import API_GROUP, API_VERSION
from app.resources.registry import KindInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    info: KindInfo
    namespace: str
    name: str


# uid -> (target, the object's status as last seen, its resourceVersion), or None when it is gone
Observed = Callable[[str], tuple[Target, dict[str, Any], str] | None]


def shows(status: dict[str, Any], fields: dict[str, Any]) -> bool:
    """True when `status` already carries every field (None meaning: absent)."""
    return all(status.get(k) == v for k, v in fields.items())


@dataclass
class WriterStats:
    writes: int = 0
    skipped: int = 0
    errors: int = 0


class StatusWriter:
    def __init__(self, api: Any, observed: Observed, threads: int = 4) -> None:
        from kubernetes import client

        self.custom = client.CustomObjectsApi(api)
        self.observed = observed
        self.threads = threads
        self.stats = WriterStats()
        self._cond = threading.Condition()
        self._fields: dict[str, dict[str, Any]] = {}
        self._urgent: collections.deque[str] = collections.deque()
        self._routine: collections.deque[str] = collections.deque()
        self._queued: set[str] = set()
        self._written: dict[
            str, tuple[dict[str, Any], str]
        ] = {}  # uid -> (fields written, rv they were based on)
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def want(self, uid: str, fields: dict[str, Any], urgent: bool = True) -> None:
        with self._cond:
            self._fields[uid] = {**self._fields.get(uid, {}), **fields}
            if uid in self._queued:
                if urgent and uid in self._routine:
                    self._routine.remove(uid)
                    self._urgent.append(uid)
                return
            self._queued.add(uid)
            (self._urgent if urgent else self._routine).append(uid)
            self._cond.notify()

    def wanted(self, uid: str) -> dict[str, Any]:
        with self._cond:
            return dict(self._fields.get(uid, {}))

    def forget(self, uid: str) -> None:
        with self._cond:
            self._fields.pop(uid, None)
            self._written.pop(uid, None)

    def pending(self) -> int:
        with self._cond:
            return len(self._queued)

    def _next(self) -> str | None:
        with self._cond:
            while not self._urgent and not self._routine:
                if self._stop.is_set():
                    return None
                self._cond.wait(0.5)
            uid = (self._urgent or self._routine).popleft()
            self._queued.discard(uid)
            return uid

    def write(self, uid: str) -> bool:
        """Patch one object's status if it differs from what it shows. True when a write happened."""
        from kubernetes.client.rest import ApiException

        seen = self.observed(uid)
        with self._cond:
            fields = dict(self._fields.get(uid, {}))
            written = self._written.get(uid)
        if seen is None or not fields:
            return False
        target, status, rv = seen
        if shows(status, fields) or (written is not None and written == (fields, rv)):
            self.stats.skipped += 1
            return False
        info = target.info
        try:
            if info.namespaced:
                self.custom.patch_namespaced_custom_object_status(
                    API_GROUP,
                    API_VERSION,
                    target.namespace,
                    info.plural,
                    target.name,
                    {"status": fields},
                    _preload_content=False,
                    _request_timeout=(5, 30),
                )
            else:
                self.custom.patch_cluster_custom_object_status(
                    API_GROUP,
                    API_VERSION,
                    info.plural,
                    target.name,
                    {"status": fields},
                    _preload_content=False,
                    _request_timeout=(5, 30),
                )
        except ApiException as exc:
            if exc.status == 404:
                return False  # deleted meanwhile; its DELETED event follows
            raise
        with self._cond:
            self._written[uid] = (fields, rv)
        self.stats.writes += 1
        return True

    def _run(self) -> None:
        while True:
            uid = self._next()
            if uid is None:
                return
            try:
                self.write(uid)
            except Exception as exc:
                self.stats.errors += 1
                log.warning("status of %s not written (%s); will retry", uid, exc)
                if not self._stop.wait(1.0):
                    with self._cond:
                        if uid not in self._queued and uid in self._fields:
                            self._queued.add(uid)
                            self._routine.append(uid)

    def start(self) -> None:
        for i in range(self.threads):
            t = threading.Thread(target=self._run, name=f"status-writer-{i}", daemon=True)
            t.start()
            self._workers.append(t)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for t in self._workers:
            t.join(timeout)
