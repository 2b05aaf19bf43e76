"""CustomResourceDefinitions for the ten kinds, generated from the pydantic models.

The models are the single source of truth: `kubekuma crds --out crds/` writes one
`apiextensions.k8s.io/v1` CRD per kind and a test fails when the files are stale. The
API server only accepts *structural* schemas, so the pydantic JSON schema is rewritten:
`$ref`s inlined, `anyOf [X, null]` turned into `nullable`, constructs Kubernetes does not
know (`const`, `additionalProperties: false`, formats it would validate differently)
dropped or translated, and models that accept extra fields marked
`x-kubernetes-preserve-unknown-fields`. tests/kube/structural.py checks the result as the
API server would.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from app.resources.common import API_GROUP, API_VERSION, DURATION_PATTERN, format_duration
from app.resources.registry import KINDS, KindInfo

CATEGORY = "kubekuma"

# CEL rules where a cross-field constraint of the models can be said to the API server, so
# `kubectl apply` refuses the manifest instead of the controller marking it Valid=False.
_MONITOR_TYPES = ("http", "tcp", "dns", "ping", "websocket", "push", "steam", "kubernetes", "tls")
RULES: dict[str, list[dict[str, str]]] = {
    "MonitorSpec": [
        *(
            {"rule": f"self.type != '{t}' || has(self.{t})", "message": f"type {t} needs the field {t}"}
            for t in _MONITOR_TYPES
            if t != "push"  # a push monitor may leave `push` out: it defaults to {}
        ),
        *(
            {
                "rule": f"self.type == '{t}' || !has(self.{t})",
                "message": f"only a {t} monitor takes {t} settings",
            }
            for t in _MONITOR_TYPES
        ),
    ],
    "NameValue": [
        {
            "rule": "has(self.value) != has(self.valueFrom)",
            "message": "give exactly one of value or valueFrom",
        }
    ],
    "SecretKeyRef": [
        {
            "rule": "has(self.name) || has(self.env)",
            "message": "a secret reference needs name (a Secret) or env",
        }
    ],
    "KubernetesTargetSpec": [
        {"rule": "has(self.name) != has(self.selector)", "message": "give exactly one of name or selector"}
    ],
}

_DROP = {"title", "format", "examples", "readOnly", "writeOnly", "deprecated", "discriminator", "$schema"}

_CONDITIONS = {
    "type": "array",
    "description": "Valid, Reconciled and Ready, in the Kubernetes convention",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
    "items": {
        "type": "object",
        "required": ["type", "status", "reason", "lastTransitionTime"],
        "properties": {
            "type": {"type": "string"},
            "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
            "reason": {"type": "string"},
            "message": {"type": "string"},
            "lastTransitionTime": {"type": "string", "format": "date-time"},
            "observedGeneration": {"type": "integer", "format": "int64"},
        },
    },
}
_BASE_STATUS: dict[str, Any] = {
    "observedGeneration": {
        "type": "integer",
        "format": "int64",
        "description": "the generation last validated",
    },
    "conditions": _CONDITIONS,
    "lastReconcileTime": {
        "type": "string",
        "format": "date-time",
        "description": "when the controller last reconciled a new generation or outcome",
    },
}
_MONITOR_STATUS: dict[str, Any] = {
    "state": {"type": "string", "enum": ["UP", "DOWN", "PENDING", "MAINTENANCE"]},
    "target": {"type": "string", "description": "what is checked, in one line"},
    "reason": {"type": "string", "description": "what the last check found"},
    "lastCheckTime": {"type": "string", "format": "date-time"},
    "lastTransitionTime": {"type": "string", "format": "date-time", "description": "when state last changed"},
    "latencyMs": {"type": "integer", "description": "latency of the last check"},
    "uptime": {
        "type": "object",
        "description": "share of UP checks in percent, from the rollups",
        "properties": {"24h": {"type": "string"}, "30d": {"type": "string"}},
    },
    "certificateExpiresAt": {"type": "string", "format": "date-time"},
}
_PROVIDER_STATUS: dict[str, Any] = {
    "healthy": {"type": "boolean"},
    "lastTestTime": {"type": "string", "format": "date-time"},
    "lastError": {"type": "string"},
}


def _cond(type_: str) -> str:
    return f'.status.conditions[?(@.type=="{type_}")].status'


def _col(name: str, path: str, type_: str = "string", priority: int = 0, **extra: str) -> dict[str, Any]:
    col: dict[str, Any] = {"name": name, "type": type_, "jsonPath": path, **extra}
    if priority:
        col["priority"] = priority
    return col


_AGE = _col("Age", ".metadata.creationTimestamp", "date")
_VALID, _READY = _col("Valid", _cond("Valid")), _col("Ready", _cond("Ready"))
_MESSAGE = _col("Message", '.status.conditions[?(@.type=="Valid")].message', priority=1)
_TAIL = [_VALID, _READY, _AGE, _MESSAGE]

COLUMNS: dict[str, list[dict[str, Any]]] = {
    "Monitor": [
        _col("Type", ".spec.type"),
        _col("Target", ".status.target"),
        _col("State", ".status.state"),
        _col("Uptime 24h", ".status.uptime.24h"),
        _col("Latency", ".status.latencyMs", "integer", description="milliseconds"),
        _AGE,
        _col("Valid", _cond("Valid"), priority=1),
        _col("Reason", ".status.reason", priority=1),
    ],
    "MonitorSet": _TAIL,
    "NotificationProvider": [_col("Type", ".spec.type"), *_TAIL],
    "NotificationPolicy": [_col("Priority", ".spec.priority", "integer"), *_TAIL],
    "StatusPage": [_col("Slug", ".spec.slug"), _col("Title", ".spec.title"), *_TAIL],
    "MaintenanceWindow": [_col("Start", ".spec.start"), _col("Duration", ".spec.duration"),
                          _col("Recurrence", ".spec.rrule"), _VALID, _AGE, _MESSAGE],
    "Silence": [_col("Starts", ".spec.startsAt"), _col("Ends", ".spec.endsAt"),
                _col("Comment", ".spec.comment"), _VALID, _AGE, _MESSAGE],
    "LocalUser": [_col("Username", ".spec.username"), _col("Role", ".spec.role"), *_TAIL],
    "ApiKey": [_col("Role", ".spec.role"), _col("Expires", ".spec.expiresAt"), *_TAIL],
    "KubeKumaSettings": [_col("Read-only", ".spec.readOnly", "boolean"), _VALID, _AGE, _MESSAGE],
}  # fmt: skip


# -- pydantic JSON schema -> structural schema ---------------------------------------------------------
def _structural(node: Any, defs: dict[str, Any], seen: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(node, dict):
        return {}
    node = dict(node)
    rules: list[dict[str, str]] = []
    if "$ref" in node:
        name = node.pop("$ref").rsplit("/", 1)[-1]
        if name in seen:
            raise ValueError(f"recursive model {name} cannot be expressed in a structural schema")
        target = _structural(defs[name], defs, (*seen, name))
        rules = RULES.get(name, [])
        # Sibling keys (a field's description) win over the referenced model's own.
        node = {**target, **{k: v for k, v in node.items() if k not in _DROP}}
        return _ordered(_with_rules(node, rules))
    if "allOf" in node and len(node["allOf"]) == 1:
        inner = _structural(node.pop("allOf")[0], defs, seen)
        node = {**inner, **node}
    if "anyOf" in node:
        options = node.pop("anyOf")
        non_null = [o for o in options if o != {"type": "null"}]
        nullable = len(non_null) < len(options)
        if len(non_null) == 1:
            inner = _structural(non_null[0], defs, seen)
            node = {**inner, **{k: v for k, v in node.items() if k not in _DROP}}
            if nullable and "type" in node:
                node["nullable"] = True
        else:  # a union of several shapes: accept any value and let the controller validate it
            node = {k: v for k, v in node.items() if k in ("description", "default")}
            node["x-kubernetes-preserve-unknown-fields"] = True
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key in ("$defs", "definitions"):
            continue
        if key == "const":
            out["enum"] = [value]
        elif key == "properties":
            out["properties"] = {k: _structural(v, defs, seen) for k, v in value.items()}
        elif key == "items":
            out["items"] = _structural(value, defs, seen)
        elif key == "additionalProperties":
            if value is True or value == {}:
                out["x-kubernetes-preserve-unknown-fields"] = True
            elif isinstance(value, dict):
                out["additionalProperties"] = _structural(value, defs, seen)
            # False (extra="forbid"): the API server prunes unknown fields; the controller reports them
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            out[bound], out[key] = value, True
        elif key == "default":
            if value is not None:
                out["default"] = value
        else:
            out[key] = value
    if "type" not in out and not out.get("x-kubernetes-preserve-unknown-fields") and "enum" not in out:
        out["x-kubernetes-preserve-unknown-fields"] = True  # `Any`: an arbitrary JSON value
    if "enum" in out and "type" not in out:
        out["type"] = _json_type(out["enum"][0])
    if out.get("pattern") == DURATION_PATTERN and isinstance(out.get("default"), int | float):
        out["default"] = format_duration(float(out["default"]))
    if (
        out.get("type") == "object"
        and "properties" in out
        and out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out.pop("additionalProperties", None)
    return _ordered(out)


_FIRST, _LAST = (
    ("type", "description", "nullable", "default"),
    ("required", "properties", "additionalProperties", "items", "x-kubernetes-validations"),
)


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    """A stable, readable key order: what a field is first, what is inside it last."""
    head = [k for k in _FIRST if k in node]
    tail = [k for k in _LAST if k in node]
    middle = [k for k in node if k not in head and k not in tail]
    return {k: node[k] for k in (*head, *middle, *tail)}


def _with_rules(node: dict[str, Any], rules: list[dict[str, str]]) -> dict[str, Any]:
    if rules:
        node = {**node, "x-kubernetes-validations": copy.deepcopy(rules)}
    return node


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def spec_schema(info: KindInfo) -> dict[str, Any]:
    raw = info.spec_model.model_json_schema(by_alias=True)
    defs = raw.get("$defs", {})
    schema = _structural(raw, defs)
    schema.pop("description", None)
    schema = _with_rules(schema, RULES.get(info.spec_model.__name__, []))
    schema["description"] = f"What the {info.kind} declares; KubeKuma never changes it."
    return _ordered(schema)


def status_schema(info: KindInfo) -> dict[str, Any]:
    props = dict(_BASE_STATUS)
    if info.kind == "Monitor":
        props.update(_MONITOR_STATUS)
    if info.kind == "NotificationProvider":
        props.update(_PROVIDER_STATUS)
    return {"type": "object", "description": "Written by KubeKuma only", "properties": copy.deepcopy(props)}


def crd(info: KindInfo) -> dict[str, Any]:
    """The CustomResourceDefinition of one kind."""
    schema = {
        "type": "object",
        "description": f"{info.kind}: see docs/resources.md",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema(info),
            "status": status_schema(info),
        },
    }
    names: dict[str, Any] = {
        "kind": info.kind,
        "listKind": f"{info.kind}List",
        "plural": info.plural,
        "singular": info.kind.lower(),
        "categories": [CATEGORY],
    }
    if info.short_names:
        names["shortNames"] = list(info.short_names)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{info.plural}.{API_GROUP}",
            "labels": {"app.kubernetes.io/part-of": "kubekuma"},
        },
        "spec": {
            "group": API_GROUP,
            "names": names,
            "scope": "Namespaced" if info.namespaced else "Cluster",
            "versions": [
                {
                    "name": API_VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": copy.deepcopy(COLUMNS.get(info.kind, [_VALID, _AGE])),
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def all_crds() -> dict[str, dict[str, Any]]:
    """File name -> CRD, one per kind."""
    return {f"{API_GROUP}_{info.plural}.yaml": crd(info) for info in KINDS.values()}


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # no &id001 anchors: each CRD reads on its own
        return True


def to_yaml(obj: dict[str, Any]) -> str:
    header = "# Generated by `kubekuma crds` from app/resources/; do not edit by hand.\n"
    return header + yaml.dump(obj, Dumper=_Dumper, sort_keys=False, width=110, allow_unicode=True)
