"""The state behind the Kubernetes API double: objects, one resourceVersion counter, the event history.

The rules it keeps are listed in apiserver.py, which serves it over HTTP.
"""

from __future__ import annotations

import base64
import bisect
import copy
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.resources.common import API_GROUP, API_VERSION
from app.resources.registry import KINDS


@dataclass(frozen=True, slots=True)
class Kind:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    status: bool = False  # has the status subresource
    custom: bool = False  # a custom resource: generation, schema (schema.py), rv needed on PUT
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


RESOURCES: dict[tuple[str, str, str], Kind] = {
    (k.group, k.version, k.plural): k
    for k in [
        Kind("", "v1", "secrets", "Secret"),
        Kind("", "v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",)),
        Kind("", "v1", "events", "Event", short_names=("ev",)),
        Kind("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
        Kind("coordination.k8s.io", "v1", "leases", "Lease"),
        Kind("rbac.authorization.k8s.io", "v1", "roles", "Role"),
        Kind("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
        Kind("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False),
        Kind(
            "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False
        ),
        Kind(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            namespaced=False,
            short_names=("crd", "crds"),
        ),
        *(
            Kind(
                API_GROUP,
                API_VERSION,
                i.plural,
                i.kind,
                i.namespaced,
                status=True,
                custom=True,
                short_names=i.short_names,
                categories=("kubekuma",),
            )
            for i in KINDS.values()
        ),
    ]
}
BY_PLURAL = {k.plural: k for k in RESOURCES.values()}


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def status(self) -> dict[str, Any]:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


Match = Callable[[dict[str, Any]], bool]


def _everything(obj: dict[str, Any]) -> bool:
    return True


def _sets_rv(patch: Any) -> bool:
    return isinstance(patch, dict) and bool((patch.get("metadata") or {}).get("resourceVersion"))


def _admit(kind: Kind, body: dict[str, Any], strict: bool) -> dict[str, Any]:
    from tests.kube.schema import admit  # the schema reads Kind and ApiError from here

    return admit(kind, body, strict)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    """Everything that bumps generation: all but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


@dataclass
class Event:
    rv: int
    kind: Kind
    namespace: str
    type: str
    obj: dict[str, Any]


@dataclass
class _Watch:
    closed: bool = False
    expire: bool = False


@dataclass
class FakeKube:
    """The state of the double: objects, the event history, and the knobs tests turn."""

    bookmark_interval: float = 1.0
    rv: int = 1
    compacted_rv: int = 0
    objects: dict[tuple[Kind, str, str], dict[str, Any]] = field(default_factory=dict)
    history: list[Event] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: list[list[Any]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    watches: list[_Watch] = field(default_factory=list)
    _snapshots: dict[str, tuple[int, list[dict[str, Any]]]] = field(default_factory=dict)
    closing: bool = False

    # -- direct access (tests) -------------------------------------------------------------------------
    def create(self, plural: str, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._create(BY_PLURAL[plural], namespace, body)

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.cond:
            obj = self.objects.get((BY_PLURAL[plural], namespace, name))
            return copy.deepcopy(obj) if obj else None

    def update(
        self, plural: str, namespace: str, name: str, patch: dict[str, Any], subresource: str = ""
    ) -> dict[str, Any]:
        return self._patch(BY_PLURAL[plural], namespace, name, patch, subresource)

    def delete(self, plural: str, namespace: str, name: str) -> dict[str, Any]:
        return self._delete(BY_PLURAL[plural], namespace, name)

    def list(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        kind = BY_PLURAL[plural]
        with self.cond:
            return [
                copy.deepcopy(o)
                for (k, ns, _), o in sorted(self.objects.items(), key=lambda kv: kv[0][1:])
                if k == kind and (namespace is None or ns == namespace)
            ]

    def put_secret(self, namespace: str, name: str, data: dict[str, str]) -> dict[str, Any]:
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        body = {"metadata": {"name": name}, "type": "Opaque", "data": encoded}
        return self.create("secrets", namespace, body)

    def compact(self) -> int:
        """Forget the history up to now: a watch or list from an older resourceVersion gets 410 Gone."""
        with self.cond:
            self.compacted_rv = self.rv
            self.history.clear()
            self._snapshots.clear()
            return self.rv

    def cut_watches(self) -> None:
        """Drop every open watch connection (a network cut or an API server restart)."""
        with self.cond:
            for w in self.watches:
                w.closed = True
            self.cond.notify_all()

    def expire_watches(self) -> None:
        """Compact, then tell every open watch its resourceVersion is gone (ERROR 410), as etcd does."""
        with self.cond:
            self.compact()
            for w in self.watches:
                w.expire = True
            self.cond.notify_all()

    def fail(self, method: str, path_part: str, code: int = 500, times: int = 1) -> None:
        """The next `times` requests whose path contains `path_part` get HTTP `code`."""
        with self.cond:
            self.faults.append([method, path_part, code, times])

    def count(self, method: str, path_part: str = "") -> int:
        with self.cond:
            return sum(1 for m, p in self.requests if m == method and path_part in p)

    # -- writes ----------------------------------------------------------------------------------------------
    def _emit(self, kind: Kind, namespace: str, type_: str, obj: dict[str, Any]) -> None:
        self.history.append(Event(self.rv, kind, namespace, type_, copy.deepcopy(obj)))
        self.cond.notify_all()

    def _create(
        self, kind: Kind, namespace: str, body: dict[str, Any], dry_run: bool = False, strict: bool = False
    ) -> dict[str, Any]:
        body = copy.deepcopy(body)
        meta = body.setdefault("metadata", {})
        name = meta.get("name")
        if not name and meta.get("generateName"):
            name = meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if not name:
            raise ApiError(422, "Invalid", "metadata.name: Required value")
        ns = namespace if kind.namespaced else ""
        if kind.status:
            body.pop("status", None)
        if kind.custom:
            body = _admit(kind, body, strict)
            meta = body["metadata"]
        with self.cond:
            if (kind, ns, name) in self.objects:
                raise ApiError(409, "AlreadyExists", f'{kind.plural}.{kind.group} "{name}" already exists')
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=_now())
            meta.pop("resourceVersion", None)
            if kind.namespaced:
                meta["namespace"] = ns
            if kind.custom:
                meta["generation"] = 1
            body["apiVersion"], body["kind"] = kind.api_version, kind.kind
            if dry_run:
                return copy.deepcopy(body)
            self.rv += 1
            meta["resourceVersion"] = str(self.rv)
            self.objects[(kind, ns, name)] = body
            self._emit(kind, ns, "ADDED", body)
            return copy.deepcopy(body)

    def _current(self, kind: Kind, namespace: str, name: str, implicit: bool = False) -> dict[str, Any]:
        obj = self.objects.get((kind, namespace if kind.namespaced else "", name))
        if obj is None and implicit and kind.plural == "namespaces":
            # every namespace exists (the double does not make tests create them first)
            return {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name},
                "status": {"phase": "Active"},
            }
        if obj is None:
            raise ApiError(404, "NotFound", f'{kind.plural}.{kind.group} "{name}" not found')
        return obj

    def _write(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        new: dict[str, Any],
        subresource: str,
        precondition: str | None,
        dry_run: bool = False,
        strict: bool = False,
    ) -> dict[str, Any]:
        """Store `new` as the next version of an object, under the rules of the resource and subresource."""
        ns = namespace if kind.namespaced else ""
        old = self._current(kind, ns, name)
        if precondition is not None and precondition != old["metadata"]["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {kind.plural}.{kind.group} "{name}": '
                "the object has been modified; please apply your changes to the latest version and try again",
            )
        if subresource == "status":
            result = copy.deepcopy(old)
            if "status" in new:
                result["status"] = new["status"]
            else:
                result.pop("status", None)
        else:
            result = copy.deepcopy(new)
            meta = result.setdefault("metadata", {})
            for key in ("uid", "creationTimestamp", "generation", "namespace", "name"):
                if key in old["metadata"]:
                    meta[key] = old["metadata"][key]
            if kind.status:  # the main resource never changes status
                result.pop("status", None)
                if "status" in old:
                    result["status"] = old["status"]
            if kind.custom and _content(result) != _content(old):
                meta["generation"] = old["metadata"].get("generation", 1) + 1
        result["apiVersion"], result["kind"] = kind.api_version, kind.kind
        result["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if kind.custom:
            result = _admit(kind, result, strict)
            if _content(result) == _content(old):
                result["metadata"]["generation"] = old["metadata"].get("generation", 1)
        if result == old or dry_run:
            return copy.deepcopy(result if dry_run else old)  # nothing changed: not a write
        self.rv += 1
        result["metadata"]["resourceVersion"] = str(self.rv)
        self.objects[(kind, ns, name)] = result
        self._emit(kind, ns, "MODIFIED", result)
        return copy.deepcopy(result)

    def _replace(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        body: dict[str, Any],
        subresource: str,
        dry_run: bool = False,
        strict: bool = False,
    ) -> dict[str, Any]:
        rv = (body.get("metadata") or {}).get("resourceVersion")
        if kind.custom and not rv:
            raise ApiError(
                422,
                "Invalid",
                "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
            )
        with self.cond:
            return self._write(kind, namespace, name, body, subresource, rv, dry_run, strict)

    def _patch(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        patch: Any,
        subresource: str,
        patched: Callable[[dict[str, Any], Any], dict[str, Any]] = merge_patch,
        dry_run: bool = False,
        strict: bool = False,
    ) -> dict[str, Any]:
        """`patched(old, patch)` is the object after the patch (merge patch unless told otherwise)."""
        with self.cond:
            old = self._current(kind, namespace, name)
            new = patched(old, patch)
            if not isinstance(new, dict):
                raise ApiError(422, "Invalid", "the patch does not leave an object")
            # a precondition is a resourceVersion the patch itself sets (not one it merely keeps)
            rv = (new.get("metadata") or {}).get("resourceVersion")
            rv = None if rv == old["metadata"]["resourceVersion"] and not _sets_rv(patch) else rv
            return self._write(kind, namespace, name, new, subresource, rv, dry_run, strict)

    def _delete(self, kind: Kind, namespace: str, name: str, dry_run: bool = False) -> dict[str, Any]:
        ns = namespace if kind.namespaced else ""
        with self.cond:
            obj = copy.deepcopy(self._current(kind, ns, name))
            if dry_run:
                return obj
            del self.objects[(kind, ns, name)]
            self.rv += 1
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self._emit(kind, ns, "DELETED", obj)
            return obj

    # -- reads ----------------------------------------------------------------------------------------------
    def _list(
        self, kind: Kind, namespace: str | None, query: dict[str, str], match: Match = _everything
    ) -> dict[str, Any]:
        limit = int(query.get("limit") or 0)
        token = query.get("continue")
        with self.cond:
            if token:
                snap = self._snapshots.get(token)
                if snap is None:
                    raise ApiError(
                        410,
                        "Expired",
                        "The provided continue parameter is too old to display a "
                        "consistent list result. You can start a new list without the continue parameter.",
                    )
                list_rv, items = snap
            else:
                asked = query.get("resourceVersion")
                if asked and asked != "0" and int(asked) < self.compacted_rv:
                    raise ApiError(410, "Expired", f"too old resource version: {asked} ({self.compacted_rv})")
                list_rv = self.rv
                items = [
                    copy.deepcopy(o)
                    for (k, ns, _), o in sorted(self.objects.items(), key=lambda kv: kv[0][1:])
                    if k == kind and (namespace is None or ns == namespace) and match(o)
                ]
            page, rest = (items[:limit], items[limit:]) if limit else (items, [])
            meta: dict[str, Any] = {"resourceVersion": str(list_rv)}
            if rest:
                next_token = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode()
                self._snapshots[next_token] = (list_rv, rest)
                meta["continue"], meta["remainingItemCount"] = next_token, len(rest)
        return {"apiVersion": kind.api_version, "kind": f"{kind.kind}List", "metadata": meta, "items": page}

    def watch(
        self, kind: Kind, namespace: str | None, query: dict[str, str], match: Match = _everything
    ) -> Iterator[dict[str, Any]]:
        """The events of one watch request, as dicts; ends on timeout, a cut, or 410."""
        asked = query.get("resourceVersion") or "0"
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1", "True")
        deadline = time.monotonic() + float(query.get("timeoutSeconds") or 3600)
        state = _Watch()
        with self.cond:
            self.watches.append(state)
            if asked == "0":
                last = self.rv
                initial = [
                    copy.deepcopy(o)
                    for (k, ns, _), o in sorted(self.objects.items(), key=lambda kv: kv[0][1:])
                    if k == kind and (namespace is None or ns == namespace) and match(o)
                ]
            else:
                last, initial = int(asked), []
        try:
            for obj in initial:
                yield {"type": "ADDED", "object": obj}
            if query.get("sendInitialEvents") in ("true", "1", "True"):  # a streaming list (WatchList)
                yield self._bookmark(kind, last, {"k8s.io/initial-events-end": "true"})
            next_bookmark = time.monotonic() + self.bookmark_interval
            while True:
                gone, batch = False, []
                with self.cond:
                    if state.expire or last < self.compacted_rv:
                        gone = True
                    elif state.closed or self.closing or time.monotonic() >= deadline:
                        return
                    else:
                        start = bisect.bisect_right(self.history, last, key=lambda e: e.rv)
                        batch = [
                            e
                            for e in self.history[start:]
                            if e.kind == kind
                            and (namespace is None or e.namespace == namespace)
                            and match(e.obj)
                        ]
                        last = self.rv  # everything up to here was seen (other kinds' events need no sending)
                        if not batch:
                            wait = min(deadline, next_bookmark) - time.monotonic()
                            if wait > 0:
                                self.cond.wait(wait)
                if gone:
                    yield self._gone(last)
                    return
                for e in batch:
                    yield {"type": e.type, "object": e.obj}
                if bookmarks and time.monotonic() >= next_bookmark:
                    next_bookmark = time.monotonic() + self.bookmark_interval
                    yield self._bookmark(kind, last)
        finally:
            with self.cond:
                self.watches.remove(state)

    @staticmethod
    def _bookmark(kind: Kind, rv: int, annotations: dict[str, str] | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if annotations:
            meta["annotations"] = annotations
        return {
            "type": "BOOKMARK",
            "object": {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": meta},
        }

    def _gone(self, rv: int) -> dict[str, Any]:
        err = ApiError(410, "Expired", f"too old resource version: {rv} ({self.compacted_rv})")
        return {"type": "ERROR", "object": err.status()}
