"""Kubernetes Events about KubeKuma's objects: what `kubectl describe` and `kubectl get events` show.

The controller records a Warning when an object turns invalid (`InvalidSpec`), when a
reference points at nothing (`ReferenceNotFound`) and when a notification provider fails
to deliver (`DeliveryFailed`); a Normal `Valid` event when a warned object is valid again.
An event is recorded once per change of reason and message, not on every reconcile, and
sent from a thread of its own through a bounded queue: Events are advice, so a slow or
failing API server costs them, never the reconcile loop. They are core/v1 Events (RBAC:
`events create`), which both `kubectl get events` and `kubectl describe` read.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.resources.common import API_GROUP, API_VERSION

log = logging.getLogger(__name__)

COMPONENT = "kubekuma-controller"


@dataclass(frozen=True, slots=True)
class Involved:
    """The object an event is about."""

    kind: str
    namespace: str
    name: str
    uid: str
    resource_version: str = ""


def event_body(
    obj: Involved, type_: str, reason: str, message: str, instance: str, now: datetime
) -> dict[str, Any]:
    """A core/v1 Event (pure: the time and the reporting instance are arguments)."""
    stamp = now.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    namespace = obj.namespace or "default"  # events about cluster-scoped objects live in default
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{obj.name}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": f"{API_GROUP}/{API_VERSION}",
            "kind": obj.kind,
            "name": obj.name,
            "namespace": obj.namespace or None,
            "uid": obj.uid,
            "resourceVersion": obj.resource_version or None,
        },
        "type": type_,
        "reason": reason,
        "message": message[:1024],
        "source": {"component": COMPONENT},
        "reportingComponent": "kubekuma.io/controller",
        "reportingInstance": instance,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


def condition_event(
    problems: list[str], missing: list[str], warned: bool, generation: int
) -> tuple[str, str, str] | None:
    """(type, reason, message) of the event an object's validation calls for, if any (pure)."""
    if problems:
        return "Warning", "InvalidSpec", "; ".join(problems)
    if missing:
        return "Warning", "ReferenceNotFound", "waiting for " + "; ".join(missing)
    if warned:
        return "Normal", "Valid", f"generation {generation} is valid"
    return None


class EventRecorder:
    def __init__(self, api: Any, instance: str = "", capacity: int = 1000) -> None:
        from kubernetes import client

        self.core = client.CoreV1Api(api)
        self.instance = instance or COMPONENT
        self._last: dict[str, tuple[str, str]] = {}  # uid -> (reason, message) last recorded
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(capacity)
        self._thread: threading.Thread | None = None
        self.sent = self.dropped = self.failed = 0

    def record(self, obj: Involved, type_: str, reason: str, message: str) -> bool:
        """Queue one event unless the same reason and message were the last recorded for the object."""
        if self._last.get(obj.uid) == (reason, message):
            return False
        self._last[obj.uid] = (reason, message)
        try:
            self._queue.put_nowait(event_body(obj, type_, reason, message, self.instance, datetime.now(UTC)))
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def warned(self, uid: str) -> bool:
        """Whether the last event recorded for the object was a warning (so a recovery is news)."""
        last = self._last.get(uid)
        return last is not None and last[0] != "Valid"

    def forget(self, uid: str) -> None:
        self._last.pop(uid, None)

    def _run(self) -> None:
        while (body := self._queue.get()) is not None:
            try:
                self.core.create_namespaced_event(
                    body["metadata"]["namespace"], body, _request_timeout=(5, 10)
                )
                self.sent += 1
            except Exception as exc:
                self.failed += 1
                log.debug("event %s not recorded: %s", body["reason"], type(exc).__name__)

    def start(self) -> EventRecorder:
        self._thread = threading.Thread(target=self._run, name="kube-events", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        if self._thread is not None:
            try:
                self._queue.put(None, timeout=timeout)
            except queue.Full:
                return
            self._thread.join(timeout)
