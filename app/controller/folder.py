"""Folder mode: manifests in a directory are the source of truth, reloaded when files change.

Every valid object lands in the resource cache; an invalid one is cached with
`Valid=False` naming the field and the reason (keeping its last valid spec, so a broken
edit never stops a working monitor); a file that is gone removes its objects. A reference
to a provider, monitor or Secret that is not in the folder makes the referrer
`Valid=False` with reason `ReferenceNotFound` until it appears (app/controller/references.py).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from app.controller.references import folder_references
from app.controller.status import object_status, with_push_token
from app.resources.credentials import warnings_of
from app.resources.loader import FolderSnapshot, SecretStore, folder_fingerprint, load_folder
from app.resources.registry import KINDS, folder_uid
from app.store import ResourceRecord, Store

log = logging.getLogger(__name__)


def records_from(snap: FolderSnapshot) -> tuple[list[ResourceRecord], dict[str, list[str]]]:
    """Cache records for every object, and the problems per uid of the invalid ones."""
    records: list[ResourceRecord] = []
    problems: dict[str, list[str]] = {}
    for res in snap.resources:
        records.append(ResourceRecord(
            uid=res.uid, kind=res.kind, namespace=res.namespace, name=res.name,
            spec=res.raw_spec, labels=dict(res.labels), generation=res.generation, valid=True,
            spec_hash=res.spec_hash, source=res.source, owner=res.owner,
        ))  # fmt: skip
    seen = {r.uid for r in records}
    for p in snap.problems:
        if p.kind not in KINDS or not p.name:
            continue  # unknown kind or no name: a problem of its file, reported by `validate` and in the log
        uid = folder_uid(p.kind, p.namespace, p.name)
        if uid in seen:
            continue
        seen.add(uid)
        problems[uid] = [str(x) for x in p.problems]
        records.append(ResourceRecord(
            uid=uid, kind=p.kind, namespace=p.namespace, name=p.name, spec=None, valid=False,
            spec_hash="invalid", source=p.source,
        ))  # fmt: skip
    return records, problems


class FolderController:
    def __init__(self, root: str | Path, store: Store, secrets: SecretStore, namespace: str = "default",
                 poll_interval: float = 1.0) -> None:  # fmt: skip
        self.root = Path(root)
        self.store = store
        self.secrets = secrets
        self.namespace = namespace
        self.poll_interval = poll_interval
        self._fingerprint: tuple[tuple[str, int, int], ...] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_problems: list[str] = []

    def reconcile(self, force: bool = False) -> bool:
        """Load the folder if it changed; sync the cache and write status. True when it ran."""
        fp = folder_fingerprint(self.root)
        if not force and fp == self._fingerprint:
            return False
        snap = load_folder(self.root, self.namespace)
        self.secrets.replace(snap.secrets)
        records, problems = records_from(snap)
        result = self.store.resources.sync(records)
        missing = folder_references(snap, self.secrets)
        refs = {(m.kind, m.namespace, m.name): [str(p) for p in m.problems] for m in missing}
        for rec in records:
            self._write_status(rec, problems.get(rec.uid, []), refs.get((rec.kind, rec.namespace, rec.name)))
        self.last_problems = [line for p in snap.problems + missing for line in p.lines()]
        for line in self.last_problems:
            log.warning("manifest problem: %s", line)
        log.info("manifests: %d objects (%d changed, %d removed), %d problems",
                 len(records), len(result.changed), len(result.deleted), len(self.last_problems))  # fmt: skip
        self._fingerprint = fp
        return True

    def _write_status(
        self, rec: ResourceRecord, problems: list[str], missing: list[str] | None = None
    ) -> None:
        current = self.store.resources.get_uid(rec.uid)
        if current is None:
            return
        has_spec = current.spec is not None
        warnings = warnings_of(rec.spec) if rec.spec else []
        for w in warnings:
            log.warning("manifest warning: %s %s/%s: %s", rec.kind, rec.namespace, rec.name, w)
        status = object_status(
            current.status,
            rec.kind,
            rec.spec,
            current.generation,
            problems,
            missing or [],
            has_spec,
            warnings,
        )
        self.store.resources.set_status(rec.uid, with_push_token(status, rec.kind, current.spec))

    def _run(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                self.reconcile()
            except Exception:
                log.exception("controller: reconcile failed; will retry")

    def start(self) -> None:
        self.reconcile(force=True)
        self._thread = threading.Thread(target=self._run, name="folder-controller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)


class FolderSecrets:
    """For processes that need Secrets from the folder but do not own the cache (scaled-out workers)."""

    def __init__(self, root: str | Path, secrets: SecretStore, namespace: str = "default") -> None:
        self.root, self.secrets, self.namespace = Path(root), secrets, namespace
        self._fingerprint: tuple[tuple[str, int, int], ...] | None = None

    def refresh(self) -> None:
        fp = folder_fingerprint(self.root)
        if fp != self._fingerprint:
            self.secrets.replace(load_folder(self.root, self.namespace).secrets)
            self._fingerprint = fp
