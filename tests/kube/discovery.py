"""What a real kubectl asks before it touches an object: discovery, OpenAPI v3, version, Table output.

- `/api`, `/apis` (the legacy, unaggregated forms: kubectl falls back to them), and one
  APIResourceList per group version, with verbs, short names and categories, so
  `kubectl get mon` and `kubectl get kubekuma` resolve;
- `/openapi/v3` and one document per group version, whose PATCH operations name the
  `fieldValidation` parameter (kubectl then validates on the server) and whose schemas are the
  CRDs' (kubectl explain);
- Table output (`Accept: ...;as=Table;g=meta.k8s.io`) with a CRD's additionalPrinterColumns
  evaluated on each object, dates shown as ages as the API server shows them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from tests.kube.fakekube import RESOURCES, Kind
from tests.kube.schema import openapi_schema, version

VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]
KUBE_VERSION = {"major": "1", "minor": "35", "gitVersion": "v1.35.0", "platform": "linux/amd64"}


def group_versions() -> dict[tuple[str, str], list[Kind]]:
    out: dict[tuple[str, str], list[Kind]] = {}
    for kind in RESOURCES.values():
        out.setdefault((kind.group, kind.version), []).append(kind)
    return out


def api_versions(host: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
    }


def api_groups() -> dict[str, Any]:
    groups = []
    for group, ver in group_versions():
        if group:
            gv = {"groupVersion": f"{group}/{ver}", "version": ver}
            groups.append({"name": group, "versions": [gv], "preferredVersion": gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    for g in api_groups()["groups"]:
        if g["name"] == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **g}
    return None


def resource_list(group: str, ver: str) -> dict[str, Any] | None:
    kinds = group_versions().get((group, ver))
    if kinds is None:
        return None
    resources: list[dict[str, Any]] = []
    for k in kinds:
        item: dict[str, Any] = {
            "name": k.plural,
            "singularName": k.kind.lower(),
            "namespaced": k.namespaced,
            "kind": k.kind,
            "verbs": VERBS,
        }
        if k.short_names:
            item["shortNames"] = list(k.short_names)
        if k.categories:
            item["categories"] = list(k.categories)
        resources.append(item)
        if k.status:
            resources.append(
                {
                    "name": f"{k.plural}/status",
                    "singularName": "",
                    "namespaced": k.namespaced,
                    "kind": k.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
    gv = f"{group}/{ver}" if group else ver
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


# -- OpenAPI v3 ----------------------------------------------------------------------------------
def _gv_path(group: str, ver: str) -> str:
    return f"apis/{group}/{ver}" if group else f"api/{ver}"


def schema_name(kind: Kind) -> str:
    reverse = ".".join(reversed(kind.group.split("."))) if kind.group else "io.k8s.api.core"
    return f"{reverse}.{kind.version}.{kind.kind}"


def _schema(kind: Kind) -> dict[str, Any]:
    gvk = [{"group": kind.group, "version": kind.version, "kind": kind.kind}]
    base = (
        openapi_schema(kind)
        if kind.custom
        else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    )
    return {**base, "x-kubernetes-group-version-kind": gvk}


def openapi_doc(group: str, ver: str) -> dict[str, Any] | None:
    kinds = group_versions().get((group, ver))
    if kinds is None:
        return None
    params = [
        {"name": n, "in": "query", "schema": {"type": "string"}}
        for n in ("dryRun", "fieldManager", "fieldValidation", "force")
    ]
    paths: dict[str, Any] = {}
    for k in kinds:
        ref = {"$ref": f"#/components/schemas/{schema_name(k)}"}
        gvk = {"group": k.group, "version": k.version, "kind": k.kind}
        scope = "/namespaces/{namespace}" if k.namespaced else ""
        op = {
            "x-kubernetes-group-version-kind": gvk,
            "parameters": params,
            "responses": {"200": {"content": {"application/json": {"schema": ref}}}},
        }
        paths[f"/{_gv_path(group, ver)}{scope}/{k.plural}/{{name}}"] = {
            verb: {**op, "x-kubernetes-action": action}
            for verb, action in (("get", "get"), ("put", "put"), ("patch", "patch"), ("delete", "delete"))
        }
        paths[f"/{_gv_path(group, ver)}{scope}/{k.plural}"] = {
            "get": {**op, "x-kubernetes-action": "list"},
            "post": {**op, "x-kubernetes-action": "post"},
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBE_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": {schema_name(k): _schema(k) for k in kinds}},
    }


def openapi_root() -> dict[str, Any]:
    paths = {}
    for group, ver in group_versions():
        doc = json.dumps(openapi_doc(group, ver), sort_keys=True).encode()
        digest = hashlib.sha512(doc).hexdigest()[:32].upper()
        paths[_gv_path(group, ver)] = {
            "serverRelativeURL": f"/openapi/v3/{_gv_path(group, ver)}?hash={digest}"
        }
    return {"paths": paths}


# -- Table output --------------------------------------------------------------------------------
def wants_table(accept: str | None) -> bool:
    return "as=Table" in (accept or "")


def json_path(obj: Any, path: str) -> Any:
    """The CRD printer-column subset of JSONPath: `.a.b`, `.a[0]`, `.a[?(@.k=="v")].b`."""
    cur: list[Any] = [obj]
    i = 0
    while i < len(path):
        if path[i] == ".":
            j = i + 1
            while j < len(path) and path[j] not in ".[":
                j += 1
            key = path[i + 1 : j]
            cur = [c[key] for c in cur if isinstance(c, dict) and key in c]
            i = j
        elif path[i] == "[":
            j = path.index("]", i)
            if path[i + 1 : i + 2] == "?":
                j = path.index(")]", i) + 1
                cond = path[i + 3 : j - 1]  # @.type=="Valid"
                field, _, want = cond.partition("==")
                field, want = field.strip()[2:], want.strip().strip("\"'")
                cur = [
                    x
                    for c in cur
                    if isinstance(c, list)
                    for x in c
                    if isinstance(x, dict) and str(x.get(field)) == want
                ]
            else:
                n = int(path[i + 1 : j])
                cur = [c[n] for c in cur if isinstance(c, list) and -len(c) <= n < len(c)]
            i = j + 1
        else:
            raise ValueError(f"unsupported JSONPath {path!r}")
    return cur[0] if cur else None


def age(stamp: str | None, now: datetime | None = None) -> str:
    if not stamp:
        return "<unknown>"
    then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    secs = int(((now or datetime.now(UTC)) - then).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= 2 * size or (unit == "m" and secs >= 60):
            return f"{secs // size}{unit}"
    return f"{max(secs, 0)}s"


def _columns(kind: Kind) -> list[dict[str, Any]]:
    if kind.custom:
        cols = version(kind).get("additionalPrinterColumns") or [
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
        ]
    elif kind.plural == "events":
        cols = [
            {"name": "Last Seen", "type": "date", "jsonPath": ".lastTimestamp"},
            {"name": "Type", "type": "string", "jsonPath": ".type"},
            {"name": "Reason", "type": "string", "jsonPath": ".reason"},
            {"name": "Object", "type": "string", "jsonPath": ".involvedObject"},
            {"name": "Message", "type": "string", "jsonPath": ".message"},
        ]
    else:
        cols = [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    name = {
        "name": "Name",
        "type": "string",
        "format": "name",
        "description": "the object's name",
        "jsonPath": "",
    }
    return [name, *cols]


def _cell(obj: dict[str, Any], col: dict[str, Any]) -> Any:
    if col.get("format") == "name":
        return obj["metadata"]["name"]
    value = json_path(obj, col["jsonPath"])
    if col["name"] == "Object" and isinstance(value, dict):
        return f"{value.get('kind', '').lower()}/{value.get('name', '')}"
    if col["type"] == "date":
        return age(value) if value else "<unknown>"
    if value is None:
        return None
    return value if col["type"] in ("integer", "number", "boolean") else str(value)


def table(kind: Kind, objects: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    cols = _columns(kind)
    rows = [
        {
            "cells": [_cell(o, c) for c in cols],
            "object": {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": o["metadata"],
            },
        }
        for o in objects
    ]
    definitions = [
        {
            "name": c["name"],
            "type": c["type"],
            "format": c.get("format", ""),
            "description": c.get("description", ""),
            "priority": c.get("priority", 0),
        }
        for c in cols
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": definitions,
        "rows": rows,
    }
