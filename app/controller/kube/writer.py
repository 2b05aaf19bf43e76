"""Status writes to the API: coalesced, prioritised, and skipped when they would change nothing.

The controller says what it *wants* the status fields it owns to be (`want`); a few
writer threads turn that into merge patches on the `/status` subresource. Wanting the
same uid twice before it is written is one write; urgent wants (conditions, a state
change) jump the queue ahead of routine ones (latency, uptime); a want whose fields the
object already shows, or that repeats our own write the watch has not echoed yet, is
dropped. The spec is never written.

Each patch carries the resourceVersion it was based on and keeps the conditions other
writers put on the object (conditions are a map list keyed by type); a 409 re-reads the
object and tries again. A write that keeps failing waits 1 s, 2 s, 4 s ... up to a minute
between tries, without holding a writer thread, and logs one short line (the HTTP status,
never the response body) on the first failure and about once per minute after.
"""

from __future__ import annotations

import collections
import heapq
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.controller.status import merge_by_type
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
    """True when `status` already carries every field (None meaning: absent); of `conditions`, ours."""
    for k, v in fields.items():
        if k == "conditions":
            theirs = {c.get("type"): c for c in status.get("conditions") or []}
            if any(theirs.get(c["type"]) != c for c in v or []):
                return False
        elif status.get(k) != v:
            return False
    return True


def patch_body(status: dict[str, Any], fields: dict[str, Any], rv: str) -> dict[str, Any]:
    """The merge patch: our fields, the others' conditions kept, and the resourceVersion it is based on.

    A merge patch replaces a list whole, so `conditions` carries the conditions of other
    writers as the object showed them; the resourceVersion makes the API server refuse the
    patch (409) if anyone wrote meanwhile, instead of dropping their write."""
    out = dict(fields)
    if "conditions" in fields:
        out["conditions"] = merge_by_type(status.get("conditions") or [], fields["conditions"])
    return {"metadata": {"resourceVersion": rv}, "status": out}


def short(exc: BaseException) -> str:
    """One short line for the log: never the whole HTTP response."""
    from kubernetes.client.rest import ApiException

    if isinstance(exc, ApiException):
        return f"HTTP {exc.status} {exc.reason}"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:120]}"


@dataclass
class WriterStats:
    writes: int = 0
    skipped: int = 0
    errors: int = 0
    conflicts: int = 0


class StatusWriter:
    def __init__(
        self,
        api: Any,
        observed: Observed,
        threads: int = 4,
        backoff_first: float = 1.0,
        backoff_cap: float = 60.0,
        conflict_retries: int = 3,
    ) -> None:
        from kubernetes import client

        self.custom = client.CustomObjectsApi(api)
        self.backoff_first, self.backoff_cap, self.conflict_retries = (
            backoff_first,
            backoff_cap,
            conflict_retries,
        )
        self._failures: dict[str, int] = {}  # uid -> consecutive failed writes
        self._delayed: list[tuple[float, str]] = []  # (when, uid): retries waiting out their backoff
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
            self._failures.pop(uid, None)

    def pending(self) -> int:
        with self._cond:
            return len(self._queued) + len(self._delayed)

    def _next(self) -> str | None:
        with self._cond:
            while not self._urgent and not self._routine:
                if self._stop.is_set():
                    return None
                now = time.monotonic()
                while self._delayed and self._delayed[0][0] <= now:
                    _, uid = heapq.heappop(self._delayed)
                    if uid not in self._queued and uid in self._fields:
                        self._queued.add(uid)
                        self._routine.append(uid)
                if not self._routine:
                    self._cond.wait(min(0.5, self._delayed[0][0] - now) if self._delayed else 0.5)
            uid = (self._urgent or self._routine).popleft()
            self._queued.discard(uid)
            return uid

    def write(self, uid: str) -> bool:
        """Patch one object's status if it differs from what it shows. True when a write happened.

        On a conflict (someone wrote since we looked) the object is read again and the patch
        rebuilt on what it now shows, a few times; other errors go to the caller."""
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
        for attempt in range(self.conflict_retries + 1):
            try:
                self._patch(target, patch_body(status, fields, rv))
                break
            except ApiException as exc:
                if exc.status == 404:
                    return False  # deleted meanwhile; its DELETED event follows
                if exc.status != 409 or attempt == self.conflict_retries:
                    raise
                self.stats.conflicts += 1
                fresh = self._read(target)
                if fresh is None:
                    return False
                status, rv = fresh.get("status") or {}, str(fresh["metadata"]["resourceVersion"])
                if shows(status, fields):
                    return False
        with self._cond:
            self._written[uid] = (fields, seen[2])
        self.stats.writes += 1
        return True

    def _patch(self, target: Target, body: dict[str, Any]) -> None:
        info, kw = target.info, {"_preload_content": False, "_request_timeout": (5, 30)}
        if info.namespaced:
            self.custom.patch_namespaced_custom_object_status(
                API_GROUP, API_VERSION, target.namespace, info.plural, target.name, body, **kw
            )
        else:
            self.custom.patch_cluster_custom_object_status(
                API_GROUP, API_VERSION, info.plural, target.name, body, **kw
            )

    def _read(self, target: Target) -> dict[str, Any] | None:
        """The object as it is now (RBAC: `get` on the kind, which the controller has anyway)."""
        from kubernetes.client.rest import ApiException

        info = target.info
        try:
            if info.namespaced:
                obj = self.custom.get_namespaced_custom_object(
                    API_GROUP,
                    API_VERSION,
                    target.namespace,
                    info.plural,
                    target.name,
                    _request_timeout=(5, 30),
                )
            else:
                obj = self.custom.get_cluster_custom_object(
                    API_GROUP, API_VERSION, info.plural, target.name, _request_timeout=(5, 30)
                )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return dict(obj)

    def backoff(self, failures: int) -> float:
        """Seconds before the next try after `failures` failed writes in a row: doubling, capped."""
        return min(self.backoff_cap, self.backoff_first * 2 ** (failures - 1))

    def _run(self) -> None:
        while True:
            uid = self._next()
            if uid is None:
                return
            try:
                self.write(uid)
                with self._cond:
                    self._failures.pop(uid, None)
            except Exception as exc:
                self.stats.errors += 1
                with self._cond:
                    n = self._failures[uid] = self._failures.get(uid, 0) + 1
                    delay = self.backoff(n)
                    heapq.heappush(self._delayed, (time.monotonic() + delay, uid))
                    self._cond.notify()
                seen = self.observed(uid)
                what = f"{seen[0].info.kind} {seen[0].namespace}/{seen[0].name}" if seen else uid
                # one line on the first failure and then about once per cap, not once per try
                level = logging.WARNING if n == 1 or delay >= self.backoff_cap else logging.DEBUG
                log.log(
                    level,
                    "status of %s not written (%s, %d in a row); next try in %.0fs",
                    what,
                    short(exc),
                    n,
                    delay,
                )

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
