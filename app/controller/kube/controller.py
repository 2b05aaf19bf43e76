"""Kubernetes mode: the ten kinds come from the API; the cache and their status follow them.

One watcher thread per kind and scope feeds one queue; one reconcile thread applies the
events in order, so the cache never sees two writers. It keeps every watched object in
memory, validates it (`parse_resource`), expands MonitorSets inline, checks references,
and writes the resource cache: one full `sync` once every kind has been listed (and
after a relist), `upsert`/`delete` per event after that. A status-only event (our own
write echoed back) costs a dict update. Invalid specs, missing references and failed
deliveries become Kubernetes Events (events.py). Status goes out through the `StatusWriter`:
conditions on every change, a monitor's live state (state, latency, uptime, certificate
expiry) on a state change and otherwise at most every `status_interval` seconds, under a
global ceiling of `writes_per_second`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterable
from typing import Any

from app.controller.kube.entries import Entry, evaluate, same_content
from app.controller.kube.events import EventRecorder, Involved, condition_event
from app.controller.kube.live import live_fields, uptime_fields
from app.controller.kube.watch import Backoff, KindWatcher, WatchEvent
from app.controller.kube.writer import StatusWriter, Target, short, shows
from app.controller.references import DEPENDENTS, missing_references
from app.controller.status import now_iso, object_status, with_push_token
from app.resources.credentials import warnings_of
from app.resources.loader import SecretStore
from app.resources.registry import KINDS
from app.store import Store

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # kind, namespace, name
BULK = 50  # changes in one batch from which the cache is written with one `sync` instead of upserts


class KubeController:
    def __init__(
        self,
        api: Any,
        store: Store,
        secrets: SecretStore,
        namespaces: Iterable[str] | None = None,
        *,
        status_interval: float = 30.0,
        live_every: float = 2.0,
        recheck_every: float = 30.0,
        writes_per_second: float = 20.0,
        writer_threads: int = 4,
        watch_timeout: float = 300.0,
        page_size: int = 500,
        backoff_first: float = 0.5,
        status_backoff: float = 1.0,
        instance: str = "",
    ) -> None:
        self.api, self.store, self.secrets = api, store, secrets
        self.namespaces = list(namespaces or [])
        self.status_interval, self.live_every, self.recheck_every = status_interval, live_every, recheck_every
        self.writes_per_second = writes_per_second
        self._stop = threading.Event()
        self._queue: queue.Queue[WatchEvent] = queue.Queue()
        self._lock = threading.Lock()
        self.entries: dict[Key, Entry] = {}
        self._by_uid: dict[str, Key] = {}
        self._written: dict[
            str, tuple[str, bool, int]
        ] = {}  # uid -> (spec_hash, valid, generation) in the cache
        self._cache_status: dict[str, dict[str, Any]] = {}
        self._live: dict[str, tuple[dict[str, Any], float]] = {}  # uid -> (live fields wanted, when)
        self.writer = StatusWriter(api, self._observed, writer_threads, backoff_first=status_backoff)
        self.recorder = EventRecorder(api, instance)
        self._deliveries_seen: int | None = None  # the newest failed delivery already reported
        scopes: list[str | None] = [*self.namespaces] or [None]
        self.watchers = [
            KindWatcher(
                api,
                info,
                ns,
                self._queue.put,
                self._stop,
                page_size=page_size,
                timeout=watch_timeout,
                backoff=Backoff(backoff_first),
            )
            for info in KINDS.values()
            for ns in (scopes if info.namespaced else [None])
        ]
        self._listed: set[tuple[str, str | None]] = set()
        self.synced = threading.Event()
        self.events = 0  # watch events applied (SYNCs count their items)
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> KubeController:
        self.writer.start()
        self.recorder.start()
        for w in self.watchers:
            w.start()
        self._thread = threading.Thread(target=self._run, name="kube-controller", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for w in self.watchers:
            w.interrupt()
        for w in self.watchers:
            w.join(5)
        if self._thread:
            self._thread.join(5)
        self.writer.stop()
        self.recorder.stop()

    def wait_synced(self, timeout: float) -> bool:
        return self.synced.wait(timeout)

    def idle(self) -> bool:
        """Nothing queued to apply or to write (for tests and the benchmark)."""
        return self._queue.empty() and self.writer.pending() == 0

    # -- the reconcile loop ------------------------------------------------------------------------------
    def _run(self) -> None:
        next_live = next_recheck = time.monotonic()
        while not self._stop.is_set():
            batch: list[WatchEvent] = []
            try:
                batch.append(self._queue.get(timeout=0.2))
                while len(batch) < 1000:
                    batch.append(self._queue.get_nowait())
            except queue.Empty:
                pass
            try:
                if batch:
                    self.apply(batch)
                now = time.monotonic()
                if self.synced.is_set() and now >= next_live:
                    next_live = now + self.live_every
                    self.refresh_live()
                if self.synced.is_set() and now >= next_recheck:
                    next_recheck = now + self.recheck_every
                    self.recheck_secrets()
                    self.retry_cache_errors()
                    self.report_failed_deliveries()
            except Exception:
                log.exception("controller: reconcile failed; will retry")
                self._stop.wait(1.0)

    def apply(self, batch: list[WatchEvent]) -> None:
        changed: dict[Key, Entry | None] = {}
        full = False
        for ev in batch:
            if ev.type == "SYNC":
                full |= self._apply_sync(ev)
                continue
            self.events += 1
            obj = ev.obj or {}
            meta = obj.get("metadata") or {}
            key = (ev.kind, meta.get("namespace") or "", meta.get("name") or "")
            old = self.entries.get(key)
            if ev.type == "DELETED":
                self._forget(key)
                changed[key] = None
                continue
            if old is not None and old.rv == str(meta.get("resourceVersion")):
                continue
            if old is not None and same_content(old.obj, obj):
                old.obj = obj  # only status moved (most often our own write coming back)
                continue
            entry = evaluate(obj, old)
            self._remember(key, entry)
            changed[key] = entry
        if not self.synced.is_set():
            return
        if full:
            self._full_sync()
        elif changed:
            self._write_changes(changed)

    def _apply_sync(self, ev: WatchEvent) -> bool:
        self.events += len(ev.items)
        seen: set[Key] = set()
        for obj in ev.items:
            meta = obj.get("metadata") or {}
            key = (ev.kind, meta.get("namespace") or "", meta.get("name") or "")
            seen.add(key)
            old = self.entries.get(key)
            if old is None or old.rv != str(meta.get("resourceVersion")):
                self._remember(key, evaluate(obj, old))
        for key in [k for k in self.entries if k[0] == ev.kind and (ev.scope is None or k[1] == ev.scope)]:
            if key not in seen:
                self._forget(key)
        self._listed.add((ev.kind, ev.scope))
        if len(self._listed) == len(self.watchers):
            if not self.synced.is_set():
                log.info("controller: listed every kind (%d objects)", len(self.entries))
            self.synced.set()
            return True
        return False

    def _remember(self, key: Key, entry: Entry) -> None:
        with self._lock:
            old = self.entries.get(key)
            if old is not None and old.uid != entry.uid:
                self._by_uid.pop(old.uid, None)
            self.entries[key] = entry
            self._by_uid[entry.uid] = key

    def _forget(self, key: Key) -> None:
        with self._lock:
            entry = self.entries.pop(key, None)
            if entry is not None:
                self._by_uid.pop(entry.uid, None)
        if entry is not None:
            self.writer.forget(entry.uid)
            self.recorder.forget(entry.uid)
            self._live.pop(entry.uid, None)
            self._cache_status.pop(entry.uid, None)

    def _observed(self, uid: str) -> tuple[Target, dict[str, Any], str] | None:
        with self._lock:
            key = self._by_uid.get(uid)
            entry = self.entries.get(key) if key else None
        if entry is None:
            return None
        return (
            Target(KINDS[entry.kind], entry.meta.get("namespace") or "", entry.meta.get("name") or ""),
            (entry.obj.get("status") or {}),
            entry.rv,
        )

    # -- the cache and status ----------------------------------------------------------------------------
    def _full_sync(self) -> None:
        records = [r for e in self.entries.values() for r in e.records]
        result = self.store.resources.sync(records)
        self._written = {r.uid: (r.spec_hash, r.valid, r.generation) for r in records}
        self._cache_status = {r.uid: r.status for r in self.store.resources.list()}
        log.info(
            "controller: cache synced: %d records (%d changed, %d removed)",
            len(records),
            len(result.changed),
            len(result.deleted),
        )
        self._evaluate(list(self.entries.values()), exists=self._exists_index())

    def _write_changes(self, changed: dict[Key, Entry | None]) -> None:
        kinds = {key[0] for key in changed}
        if len(changed) >= BULK:  # a burst: one transaction beats one per event
            records = [r for e in self.entries.values() for r in e.records]
            self.store.resources.sync(records)
            self._written = {r.uid: (r.spec_hash, r.valid, r.generation) for r in records}
        for entry in changed.values() if len(changed) < BULK else ():
            if entry is not None:
                self._upsert(entry)
        alive = self._live_uids()
        for uid in [uid for uid in self._written if uid not in alive]:
            self.store.resources.delete(uid)
            self._written.pop(uid, None)
        dependents = {k for kind in kinds for k in DEPENDENTS.get(kind, ())}
        todo = [e for e in changed.values() if e is not None]
        todo += [e for k, e in self.entries.items() if k[0] in dependents and changed.get(k) is None]
        self._evaluate(todo, exists=self._exists_index())

    def _upsert(self, entry: Entry) -> None:
        """Write one object's records to the cache; a failure is the object's Reconciled=False, retried."""
        try:
            for rec in entry.records:
                mark = (rec.spec_hash, rec.valid, rec.generation)
                if self._written.get(rec.uid) != mark:
                    self.store.resources.upsert(rec)
                    self._written[rec.uid] = mark
            entry.error = ""
        except Exception as exc:
            if not entry.error:
                log.warning(
                    "controller: %s %s not cached (%s); will retry",
                    entry.kind,
                    entry.meta.get("name"),
                    short(exc),
                )
            entry.error = f"the resource cache could not be written ({short(exc)})"

    def retry_cache_errors(self) -> None:
        failed: dict[Key, Entry | None] = {k: e for k, e in self.entries.items() if e.error}
        if failed:
            self._write_changes(failed)

    def report_failed_deliveries(self) -> None:
        """A Warning event on a NotificationProvider for each delivery that failed since the last look."""
        rows = self.store.deliveries.list(status="failed", limit=50)
        newest = max((d.id for d in rows), default=0)
        if self._deliveries_seen is None:  # the first look: old failures are not news
            self._deliveries_seen = newest
            return
        for d in sorted(rows, key=lambda d: d.id):
            if d.id <= self._deliveries_seen:
                continue
            key = self._by_uid.get(d.provider_uid)
            entry = self.entries.get(key) if key else None
            if entry is not None:
                message = f"{d.event} notification not delivered: {(d.last_error or 'unknown error')[:300]}"
                self.recorder.record(self._involved(entry), "Warning", "DeliveryFailed", message)
        self._deliveries_seen = max(self._deliveries_seen, newest)

    @staticmethod
    def _involved(entry: Entry) -> Involved:
        meta = entry.meta
        return Involved(entry.kind, meta.get("namespace") or "", meta.get("name") or "", entry.uid, entry.rv)

    def _events(self, entry: Entry) -> None:
        said = condition_event(
            entry.problems, entry.missing, self.recorder.warned(entry.uid), entry.generation
        )
        if said is not None:
            self.recorder.record(self._involved(entry), *said)

    def _live_uids(self) -> set[str]:
        return {r.uid for e in self.entries.values() for r in e.records}

    def _exists_index(self) -> set[Key]:
        return {(r.kind, r.namespace, r.name) for e in self.entries.values() for r in e.records}

    def _evaluate(self, entries: list[Entry], exists: set[Key]) -> None:
        for entry in entries:
            ns = entry.meta.get("namespace") or ""
            found = missing_references(
                entry.kind,
                ns,
                entry.spec,
                lambda k, n, m: (k, n, m) in exists,
                self.secrets if entry.secret_refs else None,
            )
            entry.missing = [str(p) for p in found]
            self._want_conditions(entry)

    def _want_conditions(self, entry: Entry) -> None:
        has_last_valid = entry.spec is not None
        if entry.problems:
            cached = self.store.resources.get_uid(entry.uid)
            has_last_valid = cached is not None and cached.spec is not None
        observed = entry.obj.get("status") or {}
        warnings = warnings_of(entry.spec) if entry.spec else []
        status = object_status(
            observed,
            entry.kind,
            entry.spec,
            entry.generation,
            entry.problems,
            entry.missing,
            has_last_valid,
            warnings,
            entry.error or None,
        )
        fields: dict[str, Any] = {
            "observedGeneration": status["observedGeneration"],
            "conditions": status["conditions"],
        }
        if entry.kind == "Monitor":
            fields["target"] = entry.target or None
        if not shows(observed, fields):  # a new generation or outcome: this reconcile is news
            fields["lastReconcileTime"] = now_iso()
        self.writer.want(entry.uid, fields, urgent=True)
        self._events(entry)
        self._cache(entry.uid, "Monitor" if entry.kind == "Monitor" else entry.kind, entry.spec, fields)
        for child in entry.records[1:]:  # a MonitorSet's Monitors: no API object, status in the cache only
            st = object_status(
                self._cache_status.get(child.uid, {}),
                "Monitor",
                child.spec,
                child.generation,
                entry.problems,
                entry.missing,
                True,
            )
            self._cache(
                child.uid,
                "Monitor",
                child.spec,
                {"observedGeneration": st["observedGeneration"], "conditions": st["conditions"]},
            )

    def _cache(self, uid: str, kind: str, spec: dict[str, Any] | None, fields: dict[str, Any]) -> None:
        """The same status in the resource cache, where the API and the dashboard read it."""
        status = {k: v for k, v in {**self._cache_status.get(uid, {}), **fields}.items() if v is not None}
        status = with_push_token(status, kind, spec)
        if status != self._cache_status.get(uid):
            self.store.resources.set_status(uid, status)
            self._cache_status[uid] = status

    def recheck_secrets(self) -> None:
        """Secrets are read, not watched (RBAC gives `get` only): look again at whoever was missing one."""
        todo = [e for e in self.entries.values() if e.secret_refs]
        if todo:
            self._evaluate(todo, exists=self._exists_index())

    def refresh_live(self) -> None:
        monitors = [e for e in self.entries.values() if e.kind == "Monitor"]  # even invalid: last spec runs
        if not monitors:
            return
        states = self.store.checks.states()
        now = time.monotonic()
        urgent, routine = [], []
        for e in monitors:
            view = states.get(e.uid)
            if view is None:
                continue
            fields = live_fields(view)
            last = self._live.get(e.uid)
            if last is None or last[0].get("state") != fields["state"]:
                urgent.append((e, fields))
            elif now - last[1] >= self.status_interval and fields != last[0]:
                routine.append((e, fields, last[1]))
        routine.sort(key=lambda t: t[2])
        budget = max(0, int(self.writes_per_second * self.live_every) - len(urgent))
        chosen = [(e, f, True) for e, f in urgent] + [(e, f, False) for e, f, _ in routine[:budget]]
        for e, fields, is_urgent in chosen:
            self._live[e.uid] = (fields, now)
            full = {**fields, "uptime": uptime_fields(self.store, e.uid)}
            self.writer.want(e.uid, full, urgent=is_urgent)
            self._cache(e.uid, "Monitor", e.spec, full)
