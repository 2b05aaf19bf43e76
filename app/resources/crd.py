"""CustomResourceDefinitions for the ten kinds, generated from the pydantic models.

The models are the single source of truth: `kubekuma crds --out crds/` writes one
`apiextensions.k8s.io/v1` CRD per kind and a test fails when the files are stale. The
API server only accepts *structural* schemas, so the pydantic JSON schema is rewritten:
`$ref`s inlined, `anyOf [X, null]` turned into `nullable`, constructs Kubernetes does not
know (`const`, `additionalProperties: false`, formats it would validate differently)
dropped or translated, and models that accept extra fields marked
`x-kubernetes-preserve-unknown-fields`. `structural_problems` checks the result locally.
"""

from __future__ import annotations

import copy
import re
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
            {"rule": f"self.type == '{t}' || !has(self.{t})", "message": f"only a {t} monitor takes {t} settings"}
            for t in _MONITOR_TYPES
        ),
    ],
    "NameValue": [{"rule": "has(self.value) != has(self.valueFrom)", "message": "give exactly one of value or valueFrom"}],
    "SecretKeyRef": [
        {"rule": "has(self.name) || has(self.env)", "message": "a secret reference needs name (a Secret) or env"}
    ],
    "KubernetesTargetSpec": [
        {"rule": "has(self.name) != has(self.selector)", "message": "give exactly one of name or selector"}
    ],
}  # fmt: skip

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


_AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
_VALID = {"name": "Valid", "type": "string", "jsonPath": _cond("Valid")}
_READY = {"name": "Ready", "type": "string", "jsonPath": _cond("Ready")}
_MESSAGE = {
    "name": "Message", "type": "string", "priority": 1,
    "jsonPath": '.status.conditions[?(@.type=="Valid")].message',
}  # fmt: skip

COLUMNS: dict[str, list[dict[str, Any]]] = {
    "Monitor": [
        {"name": "Type", "type": "string", "jsonPath": ".spec.type"},
        {"name": "Target", "type": "string", "jsonPath": ".status.target"},
        {"name": "State", "type": "string", "jsonPath": ".status.state"},
        {"name": "Uptime 24h", "type": "string", "jsonPath": ".status.uptime.24h"},
        {"name": "Latency", "type": "integer", "jsonPath": ".status.latencyMs", "description": "milliseconds"},
        _AGE,
        {"name": "Valid", "type": "string", "jsonPath": _cond("Valid"), "priority": 1},
        {"name": "Reason", "type": "string", "jsonPath": ".status.reason", "priority": 1},
    ],
    "MonitorSet": [_VALID, _READY, _AGE, _MESSAGE],
    "NotificationProvider": [{"name": "Type", "type": "string", "jsonPath": ".spec.type"}, _VALID, _READY, _AGE,
                             _MESSAGE],
    "NotificationPolicy": [{"name": "Priority", "type": "integer", "jsonPath": ".spec.priority"}, _VALID, _READY,
                           _AGE, _MESSAGE],
    "StatusPage": [{"name": "Slug", "type": "string", "jsonPath": ".spec.slug"},
                   {"name": "Title", "type": "string", "jsonPath": ".spec.title"}, _VALID, _READY, _AGE, _MESSAGE],
    "MaintenanceWindow": [{"name": "Start", "type": "string", "jsonPath": ".spec.start"},
                          {"name": "Duration", "type": "string", "jsonPath": ".spec.duration"},
                          {"name": "Recurrence", "type": "string", "jsonPath": ".spec.rrule"}, _VALID, _AGE, _MESSAGE],
    "Silence": [{"name": "Starts", "type": "string", "jsonPath": ".spec.startsAt"},
                {"name": "Ends", "type": "string", "jsonPath": ".spec.endsAt"},
                {"name": "Comment", "type": "string", "jsonPath": ".spec.comment"}, _VALID, _AGE, _MESSAGE],
    "LocalUser": [{"name": "Username", "type": "string", "jsonPath": ".spec.username"},
                  {"name": "Role", "type": "string", "jsonPath": ".spec.role"}, _VALID, _READY, _AGE, _MESSAGE],
    "ApiKey": [{"name": "Role", "type": "string", "jsonPath": ".spec.role"},
               {"name": "Expires", "type": "string", "jsonPath": ".spec.expiresAt"}, _VALID, _READY, _AGE, _MESSAGE],
    "KubeKumaSettings": [{"name": "Read-only", "type": "boolean", "jsonPath": ".spec.readOnly"}, _VALID, _AGE,
                         _MESSAGE],
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


# -- local structural checks ------------------------------------------------------------------------------
_ALLOWED = {
    "description", "type", "format", "title", "default", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "multipleOf",
    "enum", "maxProperties", "minProperties", "required", "items", "allOf", "oneOf", "anyOf", "not", "properties",
    "additionalProperties", "nullable", "example", "externalDocs", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type", "x-kubernetes-map-type", "x-kubernetes-validations",
}  # fmt: skip
_TYPES = {"object", "array", "string", "integer", "number", "boolean"}
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "object": (dict,),
    "array": (list,),
}  # fmt: skip
_SELF_FIELD = re.compile(r"\bself\.([A-Za-z_][A-Za-z0-9_]*)")


def structural_problems(schema: Any, path: str = "") -> list[str]:
    """What the API server would reject in a schema, as far as it can be checked without one."""
    out: list[str] = []
    if not isinstance(schema, dict):
        return [f"{path or '<root>'}: a schema must be a mapping"]
    here = path or "<root>"
    for key in schema:
        if key not in _ALLOWED:
            out.append(f"{here}: {key} is not allowed in a structural schema")
    preserve = schema.get("x-kubernetes-preserve-unknown-fields")
    if preserve is not None and preserve is not True:
        out.append(f"{here}: x-kubernetes-preserve-unknown-fields must be true when set")
    type_ = schema.get("type")
    if type_ is None and not preserve and not schema.get("x-kubernetes-int-or-string"):
        out.append(f"{here}: type is missing")
    if type_ is not None and type_ not in _TYPES:
        out.append(f"{here}: unknown type {type_!r}")
    if schema.get("nullable") and type_ is None:
        out.append(f"{here}: nullable needs a type")
    for junctor in ("allOf", "anyOf", "oneOf", "not"):
        branches = schema.get(junctor)
        for i, branch in enumerate(
            branches if isinstance(branches, list) else [branches] if branches else []
        ):
            for banned in ("type", "properties", "items", "additionalProperties", "default", "nullable",
                           "description", "x-kubernetes-preserve-unknown-fields"):  # fmt: skip
                if isinstance(branch, dict) and banned in branch:
                    out.append(f"{here}.{junctor}[{i}]: {banned} may not appear inside {junctor}")
    if "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        if isinstance(extra, bool):
            out.append(f"{here}: additionalProperties must be a schema, not {extra}")
        if "properties" in schema:
            out.append(f"{here}: properties and additionalProperties are mutually exclusive")
    if type_ == "array":
        if not isinstance(schema.get("items"), dict):
            out.append(f"{here}: an array needs one items schema")
        else:
            out.extend(structural_problems(schema["items"], f"{path}[]"))
    for name, sub in (schema.get("properties") or {}).items():
        out.extend(structural_problems(sub, f"{path}.{name}"))
    if isinstance(schema.get("additionalProperties"), dict):
        out.extend(structural_problems(schema["additionalProperties"], f"{path}.*"))
    for req in schema.get("required") or []:
        if req not in (schema.get("properties") or {}):
            out.append(f"{here}: required field {req} is not among the properties")
    if "default" in schema:
        out.extend(_default_problems(schema, here))
    for enum_value in schema.get("enum") or []:
        if type_ in _PY_TYPES and not isinstance(enum_value, _PY_TYPES[type_]):
            out.append(f"{here}: enum value {enum_value!r} is not a {type_}")
    for rule in schema.get("x-kubernetes-validations") or []:
        if not isinstance(rule, dict) or not isinstance(rule.get("rule"), str):
            out.append(f"{here}: a validation rule needs a rule string")
            continue
        if not preserve:
            for field in _SELF_FIELD.findall(rule["rule"]):
                if field not in (schema.get("properties") or {}):
                    out.append(f"{here}: rule {rule['rule']!r} names {field}, which is not a property")
    return out


def _default_problems(schema: dict[str, Any], here: str) -> list[str]:
    value, type_ = schema["default"], schema.get("type")
    if type_ in _PY_TYPES and not isinstance(value, _PY_TYPES[type_]):
        return [f"{here}: default {value!r} is not a {type_}"]
    if type_ == "integer" and isinstance(value, bool):
        return [f"{here}: default {value!r} is not an integer"]
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        return [f"{here}: default {value!r} does not match the pattern"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{here}: default {value!r} is not one of the enum values"]
    return []


def crd_problems(doc: dict[str, Any]) -> list[str]:
    """Structural problems of a whole CRD (every version's schema, the printer columns, the names)."""
    out: list[str] = []
    spec = doc.get("spec", {})
    if doc.get("apiVersion") != "apiextensions.k8s.io/v1" or doc.get("kind") != "CustomResourceDefinition":
        out.append("not an apiextensions.k8s.io/v1 CustomResourceDefinition")
    names = spec.get("names", {})
    if doc.get("metadata", {}).get("name") != f"{names.get('plural')}.{spec.get('group')}":
        out.append("metadata.name must be <plural>.<group>")
    for version in spec.get("versions", []):
        schema = version.get("schema", {}).get("openAPIV3Schema")
        out.extend(f"{version.get('name')}: {p}" for p in structural_problems(schema))
        props = (schema or {}).get("properties", {})
        meta = props.get("metadata", {})
        if set(meta) - {"type"} - {"properties"} or set(meta.get("properties", {})) - {
            "name",
            "generateName",
        }:
            out.append("metadata may only restrict name and generateName")
        for col in version.get("additionalPrinterColumns", []):
            if not str(col.get("jsonPath", "")).startswith("."):
                out.append(f"printer column {col.get('name')}: jsonPath must start with '.'")
            if col.get("type") not in ("integer", "number", "string", "boolean", "date"):
                out.append(f"printer column {col.get('name')}: unknown type {col.get('type')!r}")
    return out
