"""Group monitors: which monitors a group follows, and which groups follow each other in a circle.

Pure functions over a plain view of the monitors, shared by validation (a folder whose
groups form a cycle is refused) and by the group checker (which reads its members' states
and refuses a cycle it meets at run time, as Kubernetes objects are validated one by one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.resources.services import GroupSpec

Key = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True, slots=True)
class MonitorView:
    namespace: str
    name: str
    labels: dict[str, str]
    enabled: bool = True
    group: GroupSpec | None = None  # set when the monitor is itself a group

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)


def view(namespace: str, name: str, labels: dict[str, str], spec: dict[str, Any] | None) -> MonitorView:
    """A MonitorView from a stored or parsed spec dict (an unparsable group counts as a plain monitor)."""
    spec = spec or {}
    group = None
    if spec.get("type") == "group" and isinstance(spec.get("group"), dict):
        try:
            group = GroupSpec.model_validate(spec["group"])
        except ValidationError:
            group = None
    return MonitorView(namespace, name, dict(labels or {}), bool(spec.get("enabled", True)), group)


def members(group: MonitorView, monitors: Iterable[MonitorView]) -> list[MonitorView]:
    """The enabled monitors `group` follows: its selector, in its namespace or those it names."""
    spec = group.group
    if spec is None:
        return []
    spaces = set(spec.namespaces) | {group.namespace}
    every = "*" in spaces
    return sorted(
        (
            m
            for m in monitors
            if m.key != group.key
            and m.enabled
            and (every or m.namespace in spaces)
            and spec.selector.matches(m.labels)
        ),
        key=lambda m: m.key,
    )


def cycles(monitors: list[MonitorView]) -> list[list[Key]]:
    """Every cycle of groups following groups, each once, as the keys along it."""
    groups = {m.key: m for m in monitors if m.group is not None}
    edges = {k: [m.key for m in members(g, monitors) if m.key in groups] for k, g in groups.items()}
    found: list[list[Key]] = []
    seen_sets: set[frozenset[Key]] = set()
    done: set[Key] = set()

    def walk(node: Key, path: list[Key], on_path: set[Key]) -> None:
        for nxt in edges[node]:
            if nxt in on_path:
                loop = path[path.index(nxt) :]
                if frozenset(loop) not in seen_sets:
                    seen_sets.add(frozenset(loop))
                    found.append(loop)
            elif nxt not in done:
                walk(nxt, [*path, nxt], on_path | {nxt})
        done.add(node)

    for start in sorted(groups):
        if start not in done:
            walk(start, [start], {start})
    return found


def describe_cycle(loop: list[Key]) -> str:
    names = [f"{ns}/{n}" for ns, n in loop]
    return " -> ".join([*names, names[0]])


def on_cycle(key: Key, monitors: list[MonitorView]) -> list[Key] | None:
    """The cycle through the group `key`, if its members lead back to it."""
    by_key = {m.key: m for m in monitors}
    start = by_key.get(key)
    if start is None or start.group is None:
        return None
    todo: list[tuple[Key, list[Key]]] = [(key, [key])]
    seen: set[Key] = set()
    while todo:
        node, path = todo.pop()
        for m in members(by_key[node], monitors):
            if m.key == key:
                return path
            if m.group is not None and m.key not in seen:
                seen.add(m.key)
                todo.append((m.key, [*path, m.key]))
    return None
