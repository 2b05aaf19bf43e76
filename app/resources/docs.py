"""Render docs/resources.md from the models, so the reference cannot drift from the code.

`python -m app.resources.docs > docs/resources.md`; a test fails when the file is stale.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import BaseModel

from app.resources.common import FULL_API_VERSION, format_duration
from app.resources.registry import KINDS

INTRO = f"""# Resource reference

Generated from the models in `app/resources/` by `python -m app.resources.docs`; do not
edit by hand. Every kind is `apiVersion: {FULL_API_VERSION}`. Durations are strings such
as `30s`, `5m`, `1h30m` or `7d`; times are RFC 3339. Credentials are always references
to a Secret key (`{{name, key}}`, or in folder mode `{{env: VARIABLE}}`), never literals: a
literal one (a password in a URL, an `Authorization` header `value`, a `password` form
field) is a warning on the object's `Valid` condition and is masked wherever it is shown.

`secretKeyRef.env` reads only the variables the operator lists by name in
`KUBEKUMA_ALLOWED_ENV` (comma-separated, empty by default), so a manifest cannot read
KubeKuma's own settings such as `KUBEKUMA_DATABASE_URL`; in Kubernetes mode it is refused
altogether (`Valid=False`, saying why). Silence regular expressions are RE2 (linear time;
no backreferences or lookaround; at most 1024 characters). A manifest file may hold at
most 1 MiB, 64 levels of nesting and 200,000 YAML nodes once aliases are expanded.
"""


def _type_of(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    if "anyOf" in prop:
        parts = [_type_of(p, defs) for p in prop["anyOf"] if p.get("type") != "null"]
        return " \\| ".join(parts) or "any"
    t = prop.get("type")
    if t == "array":
        return f"list of {_type_of(prop.get('items', {}), defs)}"
    if t == "object":
        extra = prop.get("additionalProperties")
        return f"map of {_type_of(extra, defs)}" if isinstance(extra, dict) and extra else "object"
    return str(t or "any")


def _default(prop: dict[str, Any]) -> str:
    if "default" not in prop:
        return ""
    d = prop["default"]
    if d is None:
        return ""
    if prop.get("format") == "duration" or any(p.get("format") == "duration" for p in prop.get("anyOf", [])):
        return f"`{format_duration(float(d))}`"
    return f"`{d}`".replace("|", "\\|") if not isinstance(d, str) else f"`{d}`"


def _table(name: str, schema: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    props = schema.get("properties", {})
    if not props:
        return []
    required = set(schema.get("required", []))
    lines = [f"#### {name}", "", "| field | type | default | notes |", "| --- | --- | --- | --- |"]
    for field, prop in props.items():
        notes = (prop.get("description") or "").replace("|", "\\|").replace("\n", " ")
        if field in required:
            notes = ("**required**. " + notes).strip()
        lines.append(f"| `{field}` | {_type_of(prop, defs)} | {_default(prop)} | {notes} |")
    return [*lines, ""]


def render() -> str:
    out = [INTRO]
    for info in KINDS.values():
        model: type[BaseModel] = info.spec_model
        schema = model.model_json_schema(by_alias=True, mode="validation")
        defs = schema.get("$defs", {})
        scope = "namespaced" if info.namespaced else "cluster-scoped"
        out += [
            f"## {info.kind}",
            "",
            f"{scope}; plural `{info.plural}`; short names "
            f"{', '.join(f'`{s}`' for s in info.short_names) or '—'}.",
            "",
        ]
        doc = (model.__doc__ or "").strip()
        if doc:
            out += [doc, ""]
        out += _table(f"{info.kind}.spec", schema, defs)
        for def_name, sub in sorted(defs.items()):
            out += _table(def_name, sub, defs)
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
