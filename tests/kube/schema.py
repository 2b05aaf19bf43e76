"""What the API server does with a custom resource's body before storing it, from the CRD's schema.

In the API server's order: unknown fields are pruned (or, with `fieldValidation=Strict`,
refused as kubectl asks), defaults are filled in, then the value validations run: type,
nullable, enum, pattern, lengths, bounds, item counts and required fields. The messages
read as the API server's (`spec.interval: Invalid value: "x": spec.interval in body should
match '...'`). Not evaluated: CEL rules (`x-kubernetes-validations`) and formats, which the
model validation behind the controller checks again.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

from app.resources.crd import all_crds
from tests.kube.fakekube import ApiError, Kind

_KEEP = ("apiVersion", "kind", "metadata")


@cache
def crds() -> dict[str, dict[str, Any]]:
    """Plural -> the CRD document, as generated from the models (the same as crds/)."""
    return {doc["spec"]["names"]["plural"]: doc for doc in all_crds().values()}


def version(kind: Kind) -> dict[str, Any]:
    (v,) = crds()[kind.plural]["spec"]["versions"]
    return v


def openapi_schema(kind: Kind) -> dict[str, Any]:
    return version(kind)["schema"]["openAPIV3Schema"]


def _prune(schema: dict[str, Any], value: Any, path: str, unknown: list[str]) -> Any:
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return value
    if isinstance(value, dict) and schema.get("type") == "object":
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        out = {}
        for k, v in value.items():
            sub = f"{path}.{k}" if path else k
            if not path and k in _KEEP:
                out[k] = v  # metadata is the API server's, whatever the schema says of it
            elif props is not None and k in props:
                out[k] = _prune(props[k], v, sub, unknown)
            elif isinstance(extra, dict):
                out[k] = _prune(extra, v, sub, unknown)
            else:
                unknown.append(sub)
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_prune(schema["items"], v, f"{path}[{i}]", unknown) for i, v in enumerate(value)]
    return value


def _default(schema: dict[str, Any], value: Any) -> Any:
    if isinstance(value, dict):
        for k, sub in (schema.get("properties") or {}).items():
            if k not in value and "default" in sub:
                value[k] = copy.deepcopy(sub["default"])
            if k in value:
                value[k] = _default(sub, value[k])
        if isinstance(schema.get("additionalProperties"), dict):
            for k in value:
                value[k] = _default(schema["additionalProperties"], value[k])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_default(schema["items"], v) for v in value]
    return value


_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
}


def _shown(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, dict | list) else "{...}" if value else "{}"


def _validate(schema: dict[str, Any], value: Any, path: str, errors: list[str]) -> None:
    if value is None:
        if not schema.get("nullable") and not schema.get("x-kubernetes-preserve-unknown-fields"):
            errors.append(
                f'{path}: Invalid value: "null": {path} in body must be of type {schema.get("type")}'
            )
        return
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, int | str) or isinstance(value, bool):
            errors.append(f"{path}: Invalid value: {_shown(value)}: must be an integer or a string")
        return
    t = schema.get("type")
    if t:
        ok = isinstance(value, _TYPES[t]) and not (t in ("integer", "number") and isinstance(value, bool))
        if not ok:
            errors.append(
                f'{path}: Invalid value: "{type(value).__name__}": {path} in body must be of type {t}'
            )
            return
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(_shown(v) for v in schema["enum"])
        errors.append(f"{path}: Unsupported value: {_shown(value)}: supported values: {allowed}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(
                f"{path}: Invalid value: {_shown(value)}: {path} in body should match '{schema['pattern']}'"
            )
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: Too long: may not be more than {schema['maxLength']} bytes")
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(
                f"{path}: Invalid value: {_shown(value)}: should be at least {schema['minLength']} chars long"
            )
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(
                f"{path}: Invalid value: {value}: {path} in body should be greater than or equal to "
                f"{schema['minimum']}"
            )
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(
                f"{path}: Invalid value: {value}: {path} in body should be less than or equal to "
                f"{schema['maximum']}"
            )
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{path}: Too many: {len(value)}: must have at most {schema['maxItems']} items")
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append(
                f"{path}: Invalid value: {len(value)}: {path} in body should have at least "
                f"{schema['minItems']} items"
            )
        for i, item in enumerate(value):
            _validate(schema.get("items") or {}, item, f"{path}[{i}]", errors)
    if isinstance(value, dict):
        for req in schema.get("required") or []:
            if req not in value:
                errors.append(f"{path}.{req}: Required value")
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for k, v in value.items():
            sub = f"{path}.{k}" if path else k
            if k in props:
                _validate(props[k], v, sub, errors)
            elif isinstance(extra, dict):
                _validate(extra, v, sub, errors)


def admit(kind: Kind, body: dict[str, Any], strict: bool = False) -> dict[str, Any]:
    """The body as stored: pruned, defaulted and validated; ApiError when it is refused."""
    schema = openapi_schema(kind)
    unknown: list[str] = []
    out = _prune(schema, copy.deepcopy(body), "", unknown)
    name = (body.get("metadata") or {}).get("name", "")
    if unknown and strict:
        fields = ", ".join(f'unknown field "{u}"' for u in unknown)
        raise ApiError(400, "BadRequest", f"strict decoding error: {fields}")
    out = _default(schema, out)
    errors: list[str] = []
    for key in ("spec", "status"):
        if key in out:
            _validate(schema["properties"].get(key, {}), out[key], key, errors)
    for req in schema.get("required") or []:
        if req not in out:
            errors.append(f"{req}: Required value")
    if errors:
        raise ApiError(
            422,
            "Invalid",
            f'{kind.kind}.{kind.group} "{name}" is invalid: [{", ".join(errors)}]'
            if len(errors) > 1
            else f'{kind.kind}.{kind.group} "{name}" is invalid: {errors[0]}',
        )
    return out
