"""Structural-schema rules the API server enforces on CRDs, checked locally (no cluster here).

The rules of apiextensions.k8s.io/v1 "structural schemas": no $ref, a type on every node
(unless it preserves unknown fields), no additionalProperties beside properties or as a
boolean, only value validations inside anyOf/allOf/oneOf/not, arrays with one items
schema, defaults that validate, CEL rules naming existing fields, printer columns with a
JSONPath and a known type.
"""

from __future__ import annotations

import re
from typing import Any

# -- local structural checks ------------------------------------------------------------------------------
_ALLOWED = {
    "description",
    "type",
    "format",
    "title",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "enum",
    "maxProperties",
    "minProperties",
    "required",
    "items",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "properties",
    "additionalProperties",
    "nullable",
    "example",
    "externalDocs",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
}
_TYPES = {"object", "array", "string", "integer", "number", "boolean"}
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}
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
            for banned in (
                "type",
                "properties",
                "items",
                "additionalProperties",
                "default",
                "nullable",
                "description",
                "x-kubernetes-preserve-unknown-fields",
            ):
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
