"""Kubernetes label selectors in their query-string form: `team=payments,tier!=low,env in (a,b),!legacy`.

The same syntax as `kubectl get -l`, so an API client filters monitors the way it
filters pods. Parsing is strict: a selector that cannot be read is a 400, never a filter
that silently matches everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Predicate = Callable[[dict[str, str]], bool]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s+\(([^()]*)\)$")
_EQ = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*({_VALUE})$")
_EXISTS = re.compile(rf"^(!?)\s*({_KEY})$")


class SelectorError(ValueError):
    pass


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses (`env in (a,b)` is one requirement)."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise SelectorError("unbalanced parentheses")
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise SelectorError("unbalanced parentheses")
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def _requirement(part: str) -> Predicate:
    if m := _SET.match(part):
        key, op = m.group(1), m.group(3)
        values = {v.strip() for v in m.group(4).split(",") if v.strip()}
        if not values:
            raise SelectorError(f"{part!r}: {op} needs at least one value")
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _EQ.match(part):
        key, op, value = m.group(1), m.group(3), m.group(4)
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _EXISTS.match(part):
        negate, key = m.group(1) == "!", m.group(2)
        return (lambda labels: key not in labels) if negate else (lambda labels: key in labels)
    raise SelectorError(
        f"{part!r} is not a requirement; use key=value, key!=value, key in (a,b), key or !key"
    )


def parse_selector(text: str) -> Predicate:
    """All requirements must hold (they are ANDed); an empty selector matches everything."""
    if not text.strip():
        return lambda labels: True
    preds = []
    for part in _split(text):
        if not part:
            raise SelectorError("empty requirement (two commas in a row, or a trailing comma)")
        preds.append(_requirement(part))
    return lambda labels: all(p(labels) for p in preds)
