"""The ten kinds by name, and turning one manifest document into a typed resource.

Validation problems come back as (field path, reason) pairs so that `kubekuma validate`,
the `Valid` condition and the API can all say exactly what is wrong and where.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from app.resources import kinds
from app.resources.common import API_GROUP, FULL_API_VERSION, ObjectMeta
from app.resources.monitor import MonitorSpec


@dataclass(frozen=True, slots=True)
class KindInfo:
    kind: str
    plural: str
    spec_model: type[BaseModel]
    namespaced: bool = True
    short_names: tuple[str, ...] = ()


KINDS: dict[str, KindInfo] = {
    k.kind: k
    for k in (
        KindInfo("KubeKumaSettings", "kubekumasettings", kinds.KubeKumaSettingsSpec, False, ("kksettings",)),
        KindInfo("Monitor", "monitors", MonitorSpec, short_names=("mon", "kkm")),
        KindInfo("MonitorSet", "monitorsets", kinds.MonitorSetSpec, short_names=("monset",)),
        KindInfo(
            "NotificationProvider",
            "notificationproviders",
            kinds.NotificationProviderSpec,
            short_names=("notifprovider", "kknp"),
        ),
        KindInfo(
            "NotificationPolicy",
            "notificationpolicies",
            kinds.NotificationPolicySpec,
            short_names=("notifpolicy",),
        ),
        KindInfo("StatusPage", "statuspages", kinds.StatusPageSpec, short_names=("statuspage", "sp")),
        KindInfo(
            "MaintenanceWindow",
            "maintenancewindows",
            kinds.MaintenanceWindowSpec,
            short_names=("maint", "mw"),
        ),
        KindInfo("Silence", "silences", kinds.SilenceSpec, short_names=("silence",)),
        KindInfo("LocalUser", "localusers", kinds.LocalUserSpec, short_names=("kkuser",)),
        KindInfo("ApiKey", "apikeys", kinds.ApiKeySpec, short_names=("kkapikey",)),
    )
}


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class ResourceError(Exception):
    def __init__(self, problems: list[Problem], kind: str = "", name: str = "", namespace: str = ""):
        self.problems = problems
        self.kind, self.name, self.namespace = kind, name, namespace
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(slots=True)
class Resource:
    """A validated object of one of the ten kinds."""

    kind: str
    meta: ObjectMeta
    spec: Any
    raw_spec: dict[str, Any]
    uid: str
    generation: int = 1
    source: str = ""
    owner: str | None = None  # uid of the MonitorSet that produced an expanded Monitor
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def namespace(self) -> str:
        return self.meta.namespace or ""

    @property
    def labels(self) -> dict[str, str]:
        return self.meta.labels

    @property
    def spec_hash(self) -> str:
        return spec_hash(self.raw_spec, self.meta.labels)


def spec_hash(raw_spec: dict[str, Any], labels: dict[str, str]) -> str:
    blob = json.dumps([raw_spec, labels], sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


_FOLDER_NS = uuid.UUID("6f1d7c55-3c1e-4c59-9d0a-6b2b8a3f0b11")


def folder_uid(kind: str, namespace: str, name: str) -> str:
    """A stable identity for a manifest from a folder, where no API server hands out uids."""
    return str(uuid.uuid5(_FOLDER_NS, f"{kind}/{namespace}/{name}"))


def _loc(loc: tuple[Any, ...], prefix: str) -> str:
    parts = [prefix] if prefix else []
    for p in loc:
        if isinstance(p, int):
            parts[-1:] = [f"{parts[-1]}[{p}]"] if parts else [f"[{p}]"]
        elif p in ("json_",):
            parts.append("json")
        elif p in ("continue_",):
            parts.append("continue")
        elif isinstance(p, str) and (p.startswith("function-") or "[" in p or p.startswith("tagged")):
            continue
        else:
            parts.append(str(p))
    return ".".join(parts)


def problems_from(exc: ValidationError, prefix: str) -> list[Problem]:
    out = []
    for err in exc.errors():
        msg = err["msg"]
        msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        out.append(Problem(_loc(tuple(err["loc"]), prefix), msg))
    return out


def parse_resource(doc: Any, default_namespace: str = "default", source: str = "") -> Resource:
    """Validate one manifest document; raise ResourceError listing every problem."""
    if not isinstance(doc, dict):
        raise ResourceError([Problem("", "a manifest must be a mapping")])
    kind = doc.get("kind")
    meta_raw = doc.get("metadata") or {}
    problems: list[Problem] = []
    if not isinstance(meta_raw, dict):
        problems.append(Problem("metadata", "must be a mapping"))
        meta_raw = {}
    name = meta_raw.get("name", "")
    name = name if isinstance(name, str) else ""
    api_version = doc.get("apiVersion")
    if not isinstance(kind, str) or kind not in KINDS:
        known = ", ".join(KINDS)
        raise ResourceError(
            [Problem("kind", f"unknown kind {str(kind)[:60]!r}; expected one of {known}")],
            str(kind)[:60],
            name,
        )
    info = KINDS[kind]
    if api_version != FULL_API_VERSION:
        problems.append(Problem("apiVersion", f"must be {FULL_API_VERSION} (got {api_version!r})"))
    try:
        meta = ObjectMeta.model_validate(meta_raw)
    except ValidationError as exc:
        problems.extend(problems_from(exc, "metadata"))
        meta = None
    spec_raw = doc.get("spec")
    if spec_raw is None:
        spec_raw = {}
    spec = None
    if not isinstance(spec_raw, dict):
        problems.append(Problem("spec", "must be a mapping"))
    else:
        try:
            spec = info.spec_model.model_validate(spec_raw)
        except ValidationError as exc:
            problems.extend(problems_from(exc, "spec"))
    if meta is not None:
        if info.namespaced:
            meta.namespace = meta.namespace or default_namespace
        else:
            meta.namespace = None
    raw_ns = meta_raw.get("namespace")
    ns = (meta.namespace if meta else raw_ns if isinstance(raw_ns, str) else "") or ""
    if problems or meta is None:
        raise ResourceError(problems, kind, name, ns)
    uid = meta.uid or folder_uid(kind, meta.namespace or "", meta.name)
    return Resource(
        kind=kind,
        meta=meta,
        spec=spec,
        raw_spec=spec_raw,
        uid=uid,
        generation=meta.generation or 1,
        source=source,
    )


def expand_monitor_set(rs: Resource) -> list[Resource]:
    """A MonitorSet becomes one Monitor per item: `{set}-{item}`, labels merged, uid derived."""
    spec: kinds.MonitorSetSpec = rs.spec
    out = []
    for item in spec.items:
        over = {k: v for k, v in (item.model_extra or {}).items()}
        raw = kinds.deep_merge(spec.template, over)
        try:
            mspec = MonitorSpec.model_validate(raw)
        except ValidationError as exc:
            raise ResourceError(
                problems_from(exc, f"spec.items[{item.name}]"), rs.kind, rs.name, rs.namespace
            ) from None
        labels = {**rs.labels, **item.labels, "kubekuma.io/monitor-set": rs.name}
        meta = ObjectMeta(name=f"{rs.name}-{item.name}", namespace=rs.namespace, labels=labels)
        out.append(
            Resource(
                kind="Monitor",
                meta=meta,
                spec=mspec,
                raw_spec=raw,
                uid=str(uuid.uuid5(uuid.UUID(_as_uuid(rs.uid)), item.name)),
                generation=rs.generation,
                source=rs.source,
                owner=rs.uid,
            )
        )
    return out


def _as_uuid(uid: str) -> str:
    try:
        return str(uuid.UUID(uid))
    except ValueError:
        return str(uuid.uuid5(_FOLDER_NS, uid))


__all__ = ["API_GROUP", "KINDS", "Problem", "Resource", "ResourceError", "parse_resource"]
