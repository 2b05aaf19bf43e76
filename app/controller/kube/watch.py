"""List, then watch, one kind in one scope: the informer loop, written out.

The kubernetes client's own `Watch.stream` resumes once after a 410 and then raises, and
only tracks bookmarks when it deserializes every event; the loop here owns those rules:

- list (in pages) and hand the whole set over as one SYNC, then watch from the list's
  resourceVersion with `allowWatchBookmarks`, so a quiet kind still moves its position;
- when a watch ends (server timeout, a cut connection) resume from the last position;
- on 410 Gone (the position was compacted away) list again: the SYNC replaces what the
  consumer had, so an event that fell into the gap is not lost;
- any other failure waits with exponential backoff and jitter before trying again.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.resources.common import API_GROUP, API_VERSION
from app.resources.registry import KindInfo

log = logging.getLogger(__name__)


@dataclass(slots=True)
class WatchEvent:
    type: str  # SYNC (a complete list), ADDED, MODIFIED, DELETED
    kind: str
    scope: str | None  # the namespace watched, None for all
    obj: dict[str, Any] | None = None
    items: list[dict[str, Any]] = field(default_factory=list)


class Gone(Exception):
    """The resourceVersion we asked for is no longer in the API server's history."""


@dataclass
class Backoff:
    first: float = 0.5
    cap: float = 30.0
    _next: float = 0.0

    def next(self) -> float:
        self._next = min(self.cap, self._next * 2) if self._next else self.first
        return self._next * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self._next = 0.0


@dataclass
class WatchStats:
    lists: int = 0
    watches: int = 0
    gone: int = 0
    errors: int = 0
    events: int = 0
    bookmarks: int = 0


class KindWatcher:
    def __init__(
        self,
        api: Any,
        info: KindInfo,
        namespace: str | None,
        emit: Callable[[WatchEvent], None],
        stop: threading.Event,
        *,
        page_size: int = 500,
        timeout: float = 300.0,
        backoff: Backoff | None = None,
    ) -> None:
        from kubernetes import client

        self.custom = client.CustomObjectsApi(api)
        self.info, self.namespace, self.emit, self.stop = info, namespace, emit, stop
        self.page_size, self.timeout = page_size, timeout
        self.backoff = backoff or Backoff()
        self.stats = WatchStats()
        self._resp: Any = None
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return f"{self.info.plural}@{self.namespace or '*'}"

    def _call(self, **kwargs: Any) -> Any:
        if self.namespace is not None and self.info.namespaced:
            return self.custom.list_namespaced_custom_object(
                API_GROUP, API_VERSION, self.namespace, self.info.plural, _preload_content=False, **kwargs
            )
        return self.custom.list_cluster_custom_object(
            API_GROUP, API_VERSION, self.info.plural, _preload_content=False, **kwargs
        )

    def list(self) -> tuple[list[dict[str, Any]], str]:
        from kubernetes.client.rest import ApiException

        items: list[dict[str, Any]] = []
        token = None
        while True:
            opts: dict[str, Any] = {"limit": self.page_size, "_request_timeout": (5, 60)}
            if token:
                opts["_continue"] = token
            try:
                body = json.loads(self._call(**opts).data)
            except ApiException as exc:
                if exc.status == 410:
                    raise Gone("list continue token expired") from None
                raise
            items.extend(body.get("items") or [])
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                return items, str(body["metadata"]["resourceVersion"])

    def watch(self, rv: str) -> str:
        """Stream events from `rv` until the server ends the watch; return the last position."""
        from kubernetes.watch.watch import iter_resp_lines

        self.stats.watches += 1
        resp = self._call(
            watch=True,
            resource_version=rv,
            allow_watch_bookmarks=True,
            timeout_seconds=int(self.timeout),
            _request_timeout=(5, self.timeout + 30),
        )
        self._resp = resp
        try:
            for line in iter_resp_lines(resp):
                if self.stop.is_set():
                    break
                if not line.strip():
                    continue
                event = json.loads(line)
                obj = event.get("object") or {}
                kind = event.get("type")
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone(obj.get("message", "gone"))
                    raise RuntimeError(f"watch error {obj.get('code')}: {obj.get('message')}")
                rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                if kind == "BOOKMARK":
                    self.stats.bookmarks += 1
                    continue
                self.stats.events += 1
                self.emit(WatchEvent(kind, self.info.kind, self.namespace, obj=obj))
        finally:
            self._resp = None
            resp.release_conn()
        return rv

    def run(self) -> None:
        rv: str | None = None
        while not self.stop.is_set():
            try:
                if rv is None:
                    items, rv = self.list()
                    self.stats.lists += 1
                    self.emit(WatchEvent("SYNC", self.info.kind, self.namespace, items=items))
                rv = self.watch(rv)
                self.backoff.reset()
            except Gone as exc:
                self.stats.gone += 1
                log.info("watch %s: %s; listing again", self.name, exc)
                rv = None
            except Exception as exc:
                if self.stop.is_set():
                    break
                self.stats.errors += 1
                wait = self.backoff.next()
                log.warning("watch %s failed (%s); retrying in %.1fs", self.name, _short(exc), wait)
                self.stop.wait(wait)

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name=f"watch-{self.name}", daemon=True)
        self._thread.start()
        return self._thread

    def interrupt(self) -> None:
        """Unblock a watch that is waiting for the next event (on stop)."""
        resp = self._resp
        sock = getattr(getattr(resp, "connection", None), "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


def _short(exc: Exception) -> str:
    status = getattr(exc, "status", None)
    if status:
        return f"HTTP {status} {getattr(exc, 'reason', '')}".strip()
    return f"{type(exc).__name__}: {str(exc)[:200]}"
