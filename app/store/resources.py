"""The resource cache: what the controller saw, validated, with its status.

Every change bumps a global revision in `kk_meta`, which the scheduler polls so that
jobs follow manifests within a second without a message bus between them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pony.orm import Database, db_session, select

from app.store.incidents import forget_monitor
from app.store.timeutil import to_db


@dataclass(slots=True)
class ResourceRecord:
    uid: str
    kind: str
    namespace: str
    name: str
    spec: dict[str, Any] | None
    labels: dict[str, str] = field(default_factory=dict)
    generation: int = 1
    valid: bool = True
    spec_hash: str = ""
    source: str = ""
    owner: str | None = None
    status: dict[str, Any] = field(default_factory=dict)
    revision: int = 0


@dataclass(slots=True)
class SyncResult:
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def _record(row: Any) -> ResourceRecord:
    return ResourceRecord(
        uid=row.uid,
        kind=row.kind,
        namespace=row.namespace,
        name=row.name,
        spec=row.spec,
        labels=row.labels or {},
        generation=row.generation,
        valid=row.valid,
        spec_hash=row.spec_hash or "",
        source=row.source or "",
        owner=row.owner,
        status=row.status or {},
        revision=row.revision,
    )


class ResourceRepo:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.Row = db.ResourceRow

    def _bump(self) -> int:
        meta = self.db.Meta.get_for_update(key="revision")
        if meta is None:
            meta = self.db.Meta(key="revision", value="0")
        meta.value = str(int(meta.value) + 1)
        return int(meta.value)

    def _create(self, rec: ResourceRecord, revision: int, now: datetime) -> None:
        self.Row(
            uid=rec.uid,
            kind=rec.kind,
            namespace=rec.namespace,
            name=rec.name,
            generation=rec.generation,
            spec=rec.spec,
            labels=rec.labels,
            valid=rec.valid,
            spec_hash=rec.spec_hash,
            source=rec.source,
            owner=rec.owner,
            status=rec.status,
            revision=revision,
            updated_at=now,
        )

    def revision(self) -> int:
        with db_session:
            meta = self.db.Meta.get(key="revision")
            return int(meta.value) if meta else 0

    def sync(self, records: list[ResourceRecord], scope_kinds: set[str] | None = None) -> SyncResult:
        """Make the cache hold exactly `records` (within `scope_kinds`, if given).

        Unchanged objects are left alone; a changed spec bumps the generation unless the
        source (Kubernetes) hands one; an invalid object keeps its last valid spec, so a
        broken edit never stops a working monitor.
        """
        out = SyncResult()
        now = to_db(datetime.now(UTC))
        with db_session:
            existing = {r.uid: r for r in select(r for r in self.Row)}
            wanted = {r.uid for r in records}
            # Children of an object that is invalid right now keep running on its last valid spec.
            keep_owners = {r.uid for r in records if not r.valid}
            rev = None
            for rec in records:
                row = existing.get(rec.uid)
                if row is None:
                    rev = rev or self._bump()
                    self._create(rec, rev, now)
                    out.changed.append(rec.uid)
                    continue
                # An invalid record never replaces the stored (last valid) spec_hash, so it is
                # unchanged whenever validity and source are.
                same_spec = row.spec_hash == rec.spec_hash or not rec.valid
                if same_spec and row.valid == rec.valid and row.source == rec.source:
                    continue
                rev = rev or self._bump()
                if rec.valid:
                    if row.spec_hash != rec.spec_hash:
                        row.generation = max(rec.generation, row.generation + 1)
                    row.spec = rec.spec
                    row.labels = rec.labels
                    row.spec_hash = rec.spec_hash
                row.valid = rec.valid
                row.source = rec.source
                row.owner = rec.owner
                row.revision = rev
                row.updated_at = now
                out.changed.append(rec.uid)
            for uid, row in existing.items():
                if uid in wanted or (scope_kinds is not None and row.kind not in scope_kinds):
                    continue
                if row.owner is not None and row.owner in keep_owners:
                    continue
                rev = rev or self._bump()
                self._remove(row, now)
                out.deleted.append(uid)
        return out

    def upsert(self, rec: ResourceRecord) -> None:
        """One object from a watch event; the source's generation is taken as it is."""
        now = to_db(datetime.now(UTC))
        with db_session:
            row = self.Row.get_for_update(uid=rec.uid)
            if row is not None and row.spec_hash == rec.spec_hash and row.valid == rec.valid:
                return
            rev = self._bump()
            if row is None:
                self._create(rec, rev, now)
                return
            if rec.valid:
                row.spec, row.labels, row.spec_hash = rec.spec, rec.labels, rec.spec_hash
            row.generation, row.valid, row.revision, row.updated_at = rec.generation, rec.valid, rev, now

    def delete(self, uid: str) -> bool:
        with db_session:
            row = self.Row.get(uid=uid)
            if row is None:
                return False
            now = to_db(datetime.now(UTC))
            for child in select(r for r in self.Row if r.owner == uid):
                self._remove(child, now)
            self._remove(row, now)
            self._bump()
            return True

    def _remove(self, row: Any, now: datetime) -> None:
        """Delete a cached object; a Monitor's incident closes and its state goes with it, so the
        same manifest added again starts afresh instead of reviving an old outage."""
        if row.kind == "Monitor":
            forget_monitor(self.db, row.uid, "monitor deleted", now)
        row.delete()

    def set_status(self, uid: str, status: dict[str, Any]) -> bool:
        """Store status; returns False when nothing changed (so callers skip the write upstream)."""
        with db_session:
            row = self.Row.get(uid=uid)
            if row is None or row.status == status:
                return False
            row.status = status
            return True

    def get(self, kind: str, namespace: str, name: str) -> ResourceRecord | None:
        with db_session:
            row = self.Row.get(kind=kind, namespace=namespace, name=name)
            return _record(row) if row else None

    def get_uid(self, uid: str) -> ResourceRecord | None:
        with db_session:
            row = self.Row.get(uid=uid)
            return _record(row) if row else None

    def statuses_mentioning(self, kind: str, word: str) -> dict[str, dict[str, Any]]:
        """uid -> status of the `kind` objects whose status mentions `word` anywhere (a text match
        in SQL, so only those rows are read and parsed: a periodic job looking for a rare status,
        such as flapping, costs O(matches) instead of listing and parsing every object)."""
        sql = "SELECT uid, status FROM kk_resources WHERE kind = $kind AND CAST(status AS TEXT) LIKE $pattern"
        with db_session:
            rows = self.db.select(sql, {"kind": kind, "pattern": f"%{word}%"})
        out: dict[str, dict[str, Any]] = {}
        for uid, status in rows:
            value = json.loads(status) if isinstance(status, str) else status
            if isinstance(value, dict):
                out[uid] = value
        return out

    def list(self, kind: str | None = None, namespace: str | None = None) -> list[ResourceRecord]:
        with db_session:
            q = select(r for r in self.Row)
            if kind is not None:
                q = q.filter(lambda r: r.kind == kind)
            if namespace is not None:
                q = q.filter(lambda r: r.namespace == namespace)
            return [_record(r) for r in q.order_by(lambda r: (r.kind, r.namespace, r.name))]
