"""The pure helpers behind the checkers: comparisons, JSONPath, hostname matching, thresholds, readiness."""

from __future__ import annotations

import os
import stat
from typing import Any

import pytest

from app.checkers.certs import _dns_match, warn_threshold
from app.checkers.content import compare, json_query_failure, keyword_failure, snippet
from app.checkers.kubernetes import endpoint_counts, pod_trouble, workload_counts
from app.checkers.tlsclient import private_files
from app.model import FailureClass
from app.resources.monitor import JsonQuery, Keyword


@pytest.mark.parametrize(
    ("actual", "op", "expected", "verdict"),
    [
        ("ok", "==", "ok", True),
        (3, "==", "3", True),
        (3.0, "==", 3, True),
        (True, "==", "true", True),
        (True, "==", True, True),
        (None, "==", "null", True),
        ({"a": 1}, "==", {"a": 1}, True),
        ("ok", "!=", "down", True),
        (1, "!=", "1", False),
        (0.5, "<", 1, True),
        ("10", ">", 9, True),
        (5, "<=", 5, True),
        (5, ">=", 6, False),
        ("abc", "<", 1, None),
        (True, ">", 0, None),
        (["eu", "prod"], "contains", "prod", True),
        ([1, 2], "contains", "2", True),
        ("healthy", "contains", "heal", True),
        ({"k": 1}, "contains", "k", True),
        ("x", "contains", "y", False),
    ],
    ids=lambda v: repr(v) if not isinstance(v, str) else v,
)
def test_compare(actual: Any, op: str, expected: Any, verdict: bool | None) -> None:
    assert compare(actual, op, expected) is verdict


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("220 ready\r\n", "220 ready"),
        ("a \t\n b", "a b"),
        ("\x00\x00KK\x00 hi\x00", "\ufffd\ufffdKK\ufffd hi\ufffd"),  # a binary greeting: visible, storable
        ("\x1b[31mred\x1b[0m\x7f", "\ufffd[31mred\ufffd[0m\ufffd"),
        ("x" * 200, "x" * 119 + "…"),
    ],
    ids=["trimmed", "whitespace-folded", "nul", "escape-and-del", "cut"],
)
def test_snippet(text: str, shown: str) -> None:
    assert snippet(text) == shown


@pytest.mark.parametrize(
    ("body", "kw", "failure"),
    [
        ("Status: OK", Keyword(value="OK"), None),
        ("Status: OK", Keyword(value="ok"), "keyword 'ok' not found in: 'Status: OK'"),
        ("Status: OK", Keyword(value="ok", caseSensitive=False), None),
        ("Straße", Keyword(value="STRASSE", caseSensitive=False), None),  # casefold, not lower
        ("error: disk", Keyword(value="error", invert=True), "keyword 'error' found, and it must not be"),
        ("fine", Keyword(value="error", invert=True), None),
        ("a\n\n  b " * 100, Keyword(value="zzz"), "…"),  # long bodies are cut, whitespace folded
    ],
    ids=["found", "case", "no-case", "casefold", "inverted-found", "inverted-absent", "snippet"],
)
def test_keyword(body: str, kw: Keyword, failure: str | None) -> None:
    result = keyword_failure(body, kw)
    if failure is None:
        assert result is None
    else:
        assert result is not None and result.failure is FailureClass.KEYWORD
        assert failure in result.reason


@pytest.mark.parametrize(
    ("body", "query", "value", "failure"),
    [
        ('{"a": {"b": 2}}', {"path": "$.a.b", "expected": 2}, 2, None),
        ('{"xs": [1, 2, 3]}', {"path": "$.xs[*]", "operator": "contains", "expected": 3}, [1, 2, 3], None),
        ('{"xs": [{"n": 1}, {"n": 5}]}', {"path": "$.xs[?(@.n > 2)].n", "expected": 5}, 5, None),
        ('{"a": 1}', {"path": "$.a", "expected": 2}, 1, "$.a is '1', expected == '2'"),
        ("[]", {"path": "$[0]", "expected": 1}, None, "$[0] matched nothing"),
        ("<html>", {"path": "$.a", "expected": 1}, None, "response is not JSON (Expecting value)"),
    ],
    ids=["nested", "wildcard-list", "filter", "unequal", "no-match", "not-json"],
)
def test_json_query(body: str, query: dict[str, Any], value: Any, failure: str | None) -> None:
    failed, got = json_query_failure(body, JsonQuery.model_validate(query))
    assert got == value
    if failure is None:
        assert failed is None
    else:
        assert failed is not None and failed.failure is FailureClass.JSON
        assert failure in failed.reason


@pytest.mark.parametrize(
    ("pattern", "host", "match"),
    [
        ("example.com", "example.com", True),
        ("example.com", "EXAMPLE.com.", True),
        ("*.example.com", "api.example.com", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "a.b.example.com", False),
        ("api.example.com", "web.example.com", False),
    ],
    ids=["exact", "case-and-dot", "wildcard", "wildcard-not-apex", "wildcard-one-label", "other"],
)
def test_hostname_patterns(pattern: str, host: str, match: bool) -> None:
    assert _dns_match(pattern, host) is match


@pytest.mark.parametrize(
    ("days_left", "warn_days", "warn"),
    [
        (30, [14, 7, 1], None),
        (14, [14, 7, 1], 14),
        (5, [14, 7, 1], 7),
        (0, [14, 7, 1], 1),
        (-3, [14, 7, 1], 1),
        (5, None, None),
    ],
    ids=["far", "at-14", "below-7", "last-day", "expired", "no-thresholds"],
)
def test_warn_threshold(days_left: int, warn_days: list[int] | None, warn: int | None) -> None:
    assert warn_threshold(days_left, warn_days) == warn


@pytest.mark.parametrize(
    ("kind", "obj", "counts"),
    [
        ("Deployment", {"spec": {"replicas": 3}, "status": {"readyReplicas": 2}}, (2, 3)),
        ("Deployment", {"spec": {}, "status": {}}, (0, 1)),  # replicas defaults to 1
        ("StatefulSet", {"spec": {"replicas": 0}, "status": {"readyReplicas": None}}, (0, 0)),
        ("DaemonSet", {"status": {"desiredNumberScheduled": 4, "numberReady": 4}}, (4, 4)),
    ],
    ids=["deployment", "deployment-defaults", "statefulset-scaled-down", "daemonset"],
)
def test_workload_counts(kind: str, obj: dict[str, Any], counts: tuple[int, int]) -> None:
    assert workload_counts(kind, obj) == counts


def test_pod_trouble_and_endpoints() -> None:
    pending = {"status": {"phase": "Pending"}}
    pulling = {
        "status": {
            "containerStatuses": [{"name": "web", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]
        }
    }
    assert pod_trouble(pending) == "Pending"
    assert pod_trouble(pulling) == "container web: ImagePullBackOff"
    ep = {
        "subsets": [
            {"addresses": [{"ip": "a"}]},
            {"addresses": [{"ip": "b"}], "notReadyAddresses": [{"ip": "c"}]},
        ]
    }
    assert endpoint_counts(ep) == (2, 1)
    assert endpoint_counts({}) == (0, 0)


def test_client_keys_live_in_private_files_only_while_needed() -> None:
    with private_files(cert="CERT", key="KEY", ca=None) as files:
        assert set(files) == {"cert", "key"}
        folder = os.path.dirname(files["key"])
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(files["key"]).st_mode) == 0o600
        with open(files["key"]) as fh:
            assert fh.read() == "KEY"
    assert not os.path.exists(folder)
    with private_files(cert=None) as nothing:
        assert nothing == {}
