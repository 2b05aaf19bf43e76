"""One watched object as the controller keeps it: the raw object, and what validating it gave.

`evaluate` is pure: it turns an API object into cache records (a MonitorSet into its
Monitors too) or into the problems that make it `Valid=False`, keeping the Monitors a set
had before when an edit breaks it, so they keep running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.controller.references import secret_refs
from app.resources.registry import Resource, ResourceError, expand_monitor_set, parse_resource
from app.store import ResourceRecord


@dataclass
class Entry:
    obj: dict[str, Any]
    uid: str
    records: list[ResourceRecord]  # its own first, then the Monitors a MonitorSet expands to
    problems: list[str]
    target: str = ""
    missing: list[str] = field(default_factory=list)
    secret_refs: bool = False
    error: str = ""  # why the cache could not be written (Reconciled=False), until it can

    @property
    def meta(self) -> dict[str, Any]:
        return self.obj.get("metadata") or {}

    @property
    def rv(self) -> str:
        return str(self.meta.get("resourceVersion") or "")

    @property
    def generation(self) -> int:
        return int(self.meta.get("generation") or 1)

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind"))

    @property
    def spec(self) -> dict[str, Any] | None:
        return self.records[0].spec if self.records and self.records[0].valid else None


def _record(res: Resource) -> ResourceRecord:
    return ResourceRecord(
        uid=res.uid,
        kind=res.kind,
        namespace=res.namespace,
        name=res.name,
        spec=res.raw_spec,
        labels=dict(res.labels),
        generation=res.generation,
        valid=True,
        spec_hash=res.spec_hash,
        source=res.source,
        owner=res.owner,
    )


def evaluate(obj: dict[str, Any], previous: Entry | None = None) -> Entry:
    """Validate one API object into cache records; a broken edit keeps the previous Monitors of a set."""
    meta = obj.get("metadata") or {}
    ns, name, kind = meta.get("namespace") or "", meta.get("name") or "", str(obj.get("kind"))
    doc = {"apiVersion": obj.get("apiVersion"), "kind": kind, "metadata": meta, "spec": obj.get("spec")}
    source = f"kubernetes:{ns + '/' if ns else ''}{name}"
    try:
        res = parse_resource(doc, ns or "default", source)
        children = expand_monitor_set(res) if kind == "MonitorSet" else []
        target = res.spec.target() if kind == "Monitor" else ""
        return Entry(
            obj,
            res.uid,
            [_record(res), *(_record(c) for c in children)],
            [],
            target,
            secret_refs=any(True for _ in secret_refs(res.raw_spec)),
        )
    except ResourceError as exc:
        uid = str(meta.get("uid"))
        own = ResourceRecord(
            uid=uid,
            kind=kind,
            namespace=ns,
            name=name,
            spec=None,
            valid=False,
            generation=int(meta.get("generation") or 1),
            spec_hash="invalid",
            source=source,
        )
        kept = previous.records[1:] if previous is not None else []
        return Entry(obj, uid, [own, *kept], [str(p) for p in exc.problems])


def same_content(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when only status (or annotations) moved: nothing the cache or the conditions depend on."""
    ma, mb = a.get("metadata") or {}, b.get("metadata") or {}
    return (
        a.get("spec") == b.get("spec")
        and ma.get("labels") == mb.get("labels")
        and ma.get("generation") == mb.get("generation")
        and ma.get("uid") == mb.get("uid")
    )
