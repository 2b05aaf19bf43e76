"""Kubernetes label selectors in their query-string form: `team=payments,tier!=low,env in (a,b),!legacy`.

The same syntax as `kubectl get -l`, so an API client filters monitors the way it
filters pods. Parsing is strict: a selector that cannot be read is a 400, never a filter
that silently matches everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.resources.regex import compile_pattern

Predicate = Callable[[dict[str, str]], bool]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s+\(([^()]*)\)$")
_EQ = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*({_VALUE})$")
_EXISTS = re.compile(rf"^(!?)\s*({_KEY})$")


_WS = "[ ]*"
_SET_VALUE = "[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_REQUIREMENT = (
    f"{_WS}(!{_WS}{_KEY}|{_KEY}{_WS}(==|=|!=){_WS}{_VALUE}"
    f"|{_KEY} +(in|notin) +\\({_WS}{_SET_VALUE}{_WS}(,{_WS}{_SET_VALUE}{_WS})*\\)|{_KEY}){_WS}"
)
# The whole grammar as one pattern, published in the OpenAPI document and checked first, so what
# the document calls a selector and what the server takes are the same strings.
SELECTOR_PATTERN = f"^({_REQUIREMENT}(,{_REQUIREMENT})*)?$"
_SELECTOR = compile_pattern(SELECTOR_PATTERN[1:-1])  # RE2: linear time on whatever a client sends
MAX_SELECTOR = 4096


def _in_grammar(text: str) -> bool:
    # As JSON Schema reads the pattern (Python's `$` also matches before one final newline).
    return _SELECTOR.fullmatch(text[:-1] if text.endswith("\n") else text) is not None


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
    if len(text) > MAX_SELECTOR:
        raise SelectorError(f"a selector may have at most {MAX_SELECTOR} characters")
    preds = []
    if text.strip():
        for part in _split(text):
            if not part:
                raise SelectorError("empty requirement (two commas in a row, or a trailing comma)")
            preds.append(_requirement(part))
    if not _in_grammar(text):
        raise SelectorError("not a label selector; use key=value, key!=value, key in (a,b), key or !key")
    return lambda labels: all(p(labels) for p in preds)
