"""Label and field selectors as the API server reads them from `labelSelector=` and `fieldSelector=`.

Labels: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by commas.
Fields: `path=value`, `path==value`, `path!=value` over a dotted path (`metadata.name`,
`involvedObject.uid`, `type`), which is what kubectl wait, describe and get events send.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.kube.fakekube import ApiError

Match = Callable[[dict[str, Any]], bool]


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


_SET = re.compile(r"^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$")
_EQ = re.compile(r"^([\w./-]+)\s*(==|!=|=)\s*([\w./-]*)$")
_KEY = re.compile(r"^(!?)([\w./-]+)$")


def label_selector(text: str | None) -> Match:
    tests: list[Match] = []
    for part in _split(text or ""):
        if m := _SET.match(part):
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            if op == "in":
                tests.append(lambda lb, k=key, vs=values: lb.get(k) in vs)
            else:
                tests.append(lambda lb, k=key, vs=values: lb.get(k) not in vs)
        elif m := _EQ.match(part):
            key, op, value = m.groups()
            if op == "!=":
                tests.append(lambda lb, k=key, v=value: lb.get(k) != v)
            else:
                tests.append(lambda lb, k=key, v=value: lb.get(k) == v)
        elif m := _KEY.match(part):
            neg, key = m.groups()
            tests.append(lambda lb, k=key, n=bool(neg): (k in lb) != n)
        else:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {part!r}")

    def match(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(t(labels) for t in tests)

    return match


def field_value(obj: dict[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return "" if cur is None else str(cur)


def field_selector(text: str | None) -> Match:
    tests: list[Match] = []
    for part in _split(text or ""):
        m = re.match(r"^([\w.]+)\s*(==|!=|=)\s*(.*)$", part)
        if not m:
            raise ApiError(400, "BadRequest", f"invalid field selector: {part!r}")
        path, op, value = m.groups()
        if op == "!=":
            tests.append(lambda o, p=path, v=value: field_value(o, p) != v)
        else:
            tests.append(lambda o, p=path, v=value: field_value(o, p) == v)
    return lambda obj: all(t(obj) for t in tests)


def selector(query: dict[str, str]) -> Match:
    """One predicate for both selectors of a list or watch request."""
    labels, fields = label_selector(query.get("labelSelector")), field_selector(query.get("fieldSelector"))
    return lambda obj: labels(obj) and fields(obj)
