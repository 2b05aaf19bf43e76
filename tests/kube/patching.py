"""The patch types of PATCH requests, by Content-Type, as far as KubeKuma and kubectl use them.

- `application/merge-patch+json`: RFC 7386 (objects merge, null deletes);
- `application/json-patch+json`: RFC 6902 (add, remove, replace, move, copy, test);
- `application/strategic-merge-patch+json`: kubectl's client-side apply of built-in kinds
  (CRDs, Namespaces). Read as a merge patch once its `$`-directives are dropped: right for
  the maps and atomic lists those kinds carry, not for merge-keyed lists of Pods;
- `application/apply-patch+yaml`: server-side apply. The applied configuration is merged over
  the live object (created when absent) and the manager is recorded in managedFields; field
  ownership and the removal of fields a manager stops applying are not modelled.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml

from tests.kube.fakekube import ApiError, FakeKube, Kind, _now, merge_patch

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
TYPES = (MERGE, JSON_PATCH, STRATEGIC, APPLY)


def parse(ctype: str, raw: bytes) -> Any:
    try:
        if ctype == APPLY:
            return yaml.safe_load(raw or b"{}") or {}
        return json.loads(raw or b"{}")
    except (ValueError, yaml.YAMLError):
        raise ApiError(400, "BadRequest", f"the body is not valid for {ctype}") from None


def without_directives(patch: Any) -> Any:
    """A strategic merge patch less `$patch`, `$setElementOrder/...`, `$retainKeys` and friends."""
    if isinstance(patch, dict):
        return {k: without_directives(v) for k, v in patch.items() if not k.startswith("$")}
    if isinstance(patch, list):
        return [without_directives(v) for v in patch]
    return patch


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, "Invalid", f"json patch path {path!r} must start with /")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str]) -> Any:
    cur = doc
    for p in parts[:-1]:
        try:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ApiError(422, "Invalid", f"json patch: no such path /{'/'.join(parts)}") from None
    return cur


def _get(doc: Any, parts: list[str]) -> Any:
    if not parts:
        return doc
    parent, last = _parent(doc, parts), parts[-1]
    try:
        return parent[int(last)] if isinstance(parent, list) else parent[last]
    except (KeyError, IndexError, ValueError, TypeError):
        raise ApiError(422, "Invalid", f"json patch: no such path /{'/'.join(parts)}") from None


def _remove(doc: Any, parts: list[str]) -> Any:
    value = _get(doc, parts)
    parent, last = _parent(doc, parts), parts[-1]
    if isinstance(parent, list):
        parent.pop(int(last))
    else:
        del parent[last]
    return value


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent, last = _parent(doc, parts), parts[-1]
    if isinstance(parent, list):
        parent.insert(len(parent) if last == "-" else int(last), value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise ApiError(422, "Invalid", f"json patch: cannot add at /{'/'.join(parts)}")
    return doc


def json_patch(doc: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise ApiError(400, "BadRequest", "a json patch is a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        kind, parts = op.get("op"), _pointer(op.get("path", ""))
        if kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, parts)
        elif kind == "replace":
            _get(doc, parts)
            if not parts:
                doc = copy.deepcopy(op.get("value"))
            else:
                _remove(doc, parts)
                doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            src = _pointer(op.get("from", ""))
            value = _remove(doc, src) if kind == "move" else copy.deepcopy(_get(doc, src))
            doc = _add(doc, parts, value)
        elif kind == "test":
            if _get(doc, parts) != op.get("value"):
                raise ApiError(422, "Invalid", f"json patch test failed at {op.get('path')}")
        else:
            raise ApiError(422, "Invalid", f"json patch: unknown op {kind!r}")
    return doc


def apply_patch(ctype: str, old: dict[str, Any], patch: Any) -> dict[str, Any]:
    """The object after a patch of one of the non-apply types."""
    if ctype == JSON_PATCH:
        return json_patch(old, patch)
    if ctype == STRATEGIC:
        return merge_patch(old, without_directives(patch))
    return merge_patch(old, patch)


def managed_entry(manager: str, applied: dict[str, Any], subresource: str, now: str) -> dict[str, Any]:
    """A managedFields entry naming the fields one apply set (FieldsV1: `f:` keys)."""

    def fields(v: Any) -> dict[str, Any]:
        if isinstance(v, dict):
            return {f"f:{k}": fields(x) for k, x in v.items()}
        return {}

    body = {k: v for k, v in applied.items() if k not in ("apiVersion", "kind")}
    meta = {k: v for k, v in (body.pop("metadata", None) or {}).items() if k in ("labels", "annotations")}
    if meta:
        body["metadata"] = meta
    entry = {
        "manager": manager,
        "operation": "Apply",
        "apiVersion": applied.get("apiVersion", ""),
        "time": now,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields(body),
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


def server_side_apply(
    api: FakeKube,
    kind: Kind,
    namespace: str,
    name: str,
    applied: Any,
    subresource: str,
    manager: str | None,
    dry_run: bool = False,
    strict: bool = False,
) -> tuple[int, dict[str, Any]]:
    """(HTTP code, object) of an apply: 201 when it created the object, else 200."""
    if not isinstance(applied, dict) or (applied.get("metadata") or {}).get("name") not in (None, name):
        raise ApiError(400, "BadRequest", "the applied object must name the object of the URL")
    if not manager:
        raise ApiError(422, "Invalid", "fieldManager: Required value: is required for apply patch")
    entry = managed_entry(manager, applied, subresource, _now())
    if api.get(kind.plural, namespace, name) is None:
        if subresource:
            raise ApiError(404, "NotFound", f'{kind.plural}.{kind.group} "{name}" not found')
        body = copy.deepcopy(applied)
        body.setdefault("metadata", {})["name"] = name
        body["metadata"]["managedFields"] = [entry]
        return 201, api._create(kind, namespace, body, dry_run, strict)

    def patched(old: dict[str, Any], patch: Any) -> dict[str, Any]:
        new = merge_patch(old, patch)
        keep, mine = [], None
        for e in old["metadata"].get("managedFields") or []:
            same = e.get("manager") == manager and e.get("subresource", "") == subresource
            if same and e.get("operation") == "Apply":
                mine = e
            else:
                keep.append(e)
        unchanged = mine is not None and mine.get("fieldsV1") == entry["fieldsV1"]
        new["metadata"]["managedFields"] = [*keep, mine if unchanged else entry]
        return new

    return 200, api._patch(kind, namespace, name, applied, subresource, patched, dry_run, strict)
