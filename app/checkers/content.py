"""Assertions on a response body: keyword and JSONPath query. Pure, so tables can test them.

They return None when the body passes, or a CheckFailed carrying the reason; the http
and websocket checkers share them.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse as jsonpath_parse

from app.checkers.errors import CheckFailed
from app.model import FailureClass
from app.resources.monitor import JsonQuery, Keyword

SNIPPET_CHARS = 120


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """A server's text as one short line for people: whitespace folded, control characters (NUL
    from binary protocols, terminal escapes) shown as U+FFFD, as undecodable bytes are."""
    flat = _CONTROL.sub("\ufffd", re.sub(r"\s+", " ", text).strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def keyword_failure(body: str, kw: Keyword) -> CheckFailed | None:
    found = kw.value in body if kw.caseSensitive else kw.value.casefold() in body.casefold()
    if found and kw.invert:
        return CheckFailed(FailureClass.KEYWORD, f"keyword {kw.value!r} found, and it must not be")
    if not found and not kw.invert:
        return CheckFailed(FailureClass.KEYWORD, f"keyword {kw.value!r} not found in: {snippet(body)!r}")
    return None


@lru_cache(maxsize=512)
def compile_path(path: str) -> JSONPath:
    # Parsing a JSONPath costs far more than applying it, and monitors reuse theirs every check.
    return jsonpath_parse(path)


def _text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, sort_keys=True)


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def compare(actual: Any, operator: str, expected: Any) -> bool | None:
    """`actual <operator> expected`; None when the operands cannot be ordered."""
    if operator in ("==", "!="):
        a, e = _number(actual), _number(expected)
        same = a == e if a is not None and e is not None else _text(actual) == _text(expected)
        return same if operator == "==" else not same
    if operator == "contains":
        if isinstance(actual, list):
            return any(compare(item, "==", expected) for item in actual)
        if isinstance(actual, dict):
            return _text(expected) in actual
        return _text(expected) in _text(actual)
    a, e = _number(actual), _number(expected)
    if a is None or e is None:
        return None
    return {"<": a < e, "<=": a <= e, ">": a > e, ">=": a >= e}[operator]


def json_query_failure(body: str, query: JsonQuery) -> tuple[CheckFailed | None, Any]:
    """(failure or None, the value the query found) for a JSON body."""
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as exc:
        return CheckFailed(FailureClass.JSON, f"response is not JSON ({exc.msg}): {snippet(body)!r}"), None
    try:
        path = compile_path(query.path)
    except (JsonPathParserError, Exception) as exc:  # jsonpath-ng raises plain Exceptions for some input
        return CheckFailed(
            FailureClass.CONFIG, f"jsonQuery.path {query.path!r} is not a JSONPath: {exc}"
        ), None
    matches = [m.value for m in path.find(doc)]
    if not matches:
        return CheckFailed(FailureClass.JSON, f"{query.path} matched nothing in the response"), None
    # One match is compared as itself; several are compared as the list they form.
    value = matches[0] if len(matches) == 1 else matches
    verdict = compare(value, query.operator, query.expected)
    if verdict is None:
        reason = f"{query.path} is {_text(value)!r}, not comparable with {query.operator} {query.expected!r}"
        return CheckFailed(FailureClass.JSON, reason), value
    if not verdict:
        reason = f"{query.path} is {_text(value)!r}, expected {query.operator} {_text(query.expected)!r}"
        return CheckFailed(FailureClass.JSON, reason), value
    return None, value
