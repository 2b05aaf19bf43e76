"""References between objects: a policy's providers, a page's or a window's monitors, Secrets.

A reference that points at nothing makes the referrer `Valid=False` (reason
`ReferenceNotFound`, the field and what is missing in the message); it turns valid again
as soon as the target appears. The same functions serve folder mode (over a loaded
snapshot) and Kubernetes mode (over the watched objects): they only read the spec and
ask `exists` and the SecretStore, so they are cheap enough to run on every change.
`folder_references` is the one check of a loaded folder, Secrets included, shared by the
folder controller and `kubekuma validate`, so the two never disagree.
`DEPENDENTS` says which kinds to re-evaluate when an object of another kind changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.resources.common import SecretKeyRef
from app.resources.loader import FolderSnapshot, LoadProblem, SecretError, SecretStore
from app.resources.registry import Problem

# kind that changed -> kinds whose validity may follow from it (a MonitorSet makes Monitors)
DEPENDENTS: dict[str, frozenset[str]] = {
    "NotificationProvider": frozenset({"NotificationPolicy"}),
    "Monitor": frozenset({"StatusPage", "MaintenanceWindow"}),
    "MonitorSet": frozenset({"StatusPage", "MaintenanceWindow"}),
}
REASON = "ReferenceNotFound"

Exists = Callable[[str, str, str], bool]


@dataclass(frozen=True, slots=True)
class Ref:
    kind: str
    namespace: str
    name: str
    field: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def _refs(items: Any, kind: str, namespace: str, path: str) -> Iterator[Ref]:
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and item.get("name"):
            yield Ref(kind, str(item.get("namespace") or namespace), str(item["name"]), f"{path}[{i}]")


def object_refs(kind: str, namespace: str, spec: dict[str, Any] | None) -> list[Ref]:
    """The objects of the ten kinds that `spec` names."""
    spec = spec or {}
    if kind == "NotificationPolicy":
        return list(_refs(spec.get("providers"), "NotificationProvider", namespace, "spec.providers"))
    if kind == "StatusPage":
        out: list[Ref] = []
        for g, group in enumerate(spec.get("groups") or []):
            if isinstance(group, dict):
                out.extend(_refs(group.get("monitors"), "Monitor", namespace, f"spec.groups[{g}].monitors"))
        return out
    if kind == "MaintenanceWindow":
        return list(_refs(spec.get("monitors"), "Monitor", namespace, "spec.monitors"))
    return []


def _is_secret_key(key: str) -> bool:
    return key == "secretKeyRef" or key.endswith("SecretRef")


def secret_refs(node: Any, path: str = "spec") -> Iterator[tuple[str, dict[str, Any]]]:
    """(field path, reference) for every Secret reference anywhere in a spec, provider settings included."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if _is_secret_key(str(key)) and isinstance(value, dict):
                yield here, value
            else:
                yield from secret_refs(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from secret_refs(value, f"{path}[{i}]")


def missing_references(
    kind: str, namespace: str, spec: dict[str, Any] | None, exists: Exists, secrets: SecretStore | None = None
) -> list[Problem]:
    """Every reference of one object that points at nothing, as (field, reason) problems.

    An `env:` reference is a problem when the SecretStore refuses that variable (all of them in
    Kubernetes mode); whether an allowed one is set is left to the worker, whose environment counts.
    """
    problems = [
        Problem(r.field, f"{r} not found")
        for r in object_refs(kind, namespace, spec)
        if not exists(r.kind, r.namespace, r.name)
    ]
    if secrets is None:
        return problems
    for path, raw in secret_refs(spec or {}):
        try:
            ref = SecretKeyRef.model_validate(raw)
        except ValidationError:
            continue  # the schema check reports it
        if ref.env:
            if (refusal := secrets.env_refusal(ref.env)) is not None:
                problems.append(Problem(f"{path}.env", refusal))
            continue
        if not ref.name:
            continue
        try:
            secrets.get(ref, namespace)
        except SecretError as exc:
            problems.append(Problem(path, str(exc)))
    return problems


def name_index(items: Iterable[tuple[str, str, str]]) -> Exists:
    """`exists` over a set of (kind, namespace, name)."""
    known = set(items)
    return lambda kind, namespace, name: (kind, namespace, name) in known


def check_all(
    objects: Iterable[tuple[str, str, str, dict[str, Any] | None]], secrets: SecretStore | None = None
) -> dict[tuple[str, str, str], list[Problem]]:
    """Reference problems of every object of a complete set (folder mode), by (kind, namespace, name)."""
    objs = list(objects)
    exists = name_index((k, ns, n) for k, ns, n, _ in objs)
    out: dict[tuple[str, str, str], list[Problem]] = {}
    for kind, ns, name, spec in objs:
        found = missing_references(kind, ns, spec, exists, secrets)
        if found:
            out[(kind, ns, name)] = found
    return out


def folder_references(snap: FolderSnapshot, secrets: SecretStore) -> list[LoadProblem]:
    """Reference problems of every object of a loaded folder, with the file each came from.

    `secrets` must hold the folder's Secrets (`secrets.replace(snap.secrets)`).
    """
    found = check_all(((r.kind, r.namespace, r.name, r.raw_spec) for r in snap.resources), secrets)
    out = []
    for r in snap.resources:
        problems = found.pop((r.kind, r.namespace, r.name), None)
        if problems:
            out.append(LoadProblem(r.source, r.kind, r.name, r.namespace, problems))
    return out
