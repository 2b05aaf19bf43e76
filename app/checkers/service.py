"""What the checkers of services with client libraries share (databases, brokers, gRPC, mail).

A client library blocks where we cannot reach and wraps socket errors its own way, so each
of these checkers runs its whole conversation through `converse`: in the check's own thread
(no helper thread), answered as a timeout if it comes back after the check's deadline, with
the library's own timeouts set from what is left so that it does come back, and every
exception turned into a classified failure by the checker's own `explain` plus the shared
transport classification.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any, TypeVar

from app.checkers.base import CheckContext
from app.checkers.content import compare, snippet
from app.checkers.deadline import Deadline, DeadlineExceeded, call_within
from app.checkers.errors import CheckFailed, classify
from app.checkers.tlsclient import client_context
from app.checkers.values import optional_secret
from app.model import FailureClass
from app.resources.services import SqlSpec, ValueAssertion

T = TypeVar("T")

Explain = Callable[[BaseException, str], tuple[FailureClass, str] | None]


def password(s: Any, ctx: CheckContext) -> str | None:
    return optional_secret(getattr(s, "passwordSecretRef", None), ctx, "passwordSecretRef")


def tls_context(s: Any, ctx: CheckContext) -> ssl.SSLContext | None:
    """The client TLS context of a server spec with `tls`, `tlsVerify`, `caSecretRef`; None without TLS."""
    if not getattr(s, "tls", False):
        return None
    ca = optional_secret(s.caSecretRef, ctx, "caSecretRef")
    try:
        return client_context(s.tlsVerify, ca)
    except (ssl.SSLError, ValueError) as exc:
        raise CheckFailed(FailureClass.CONFIG, f"caSecretRef is not a usable PEM CA bundle: {exc}") from None


def converse(fn: Callable[[], T], deadline: Deadline, target: str, explain: Explain) -> T:
    """`fn()` within the deadline; its exceptions classified by `explain`, then as transport errors."""
    try:
        return call_within(fn, deadline)
    except CheckFailed:
        raise
    except DeadlineExceeded:
        raise CheckFailed(FailureClass.TIMEOUT, f"{target} did not answer within the timeout") from None
    except Exception as exc:
        found = explain(exc, target)
        if found is None:
            found = classify(exc, target)
        raise CheckFailed(*found) from None


def check_value(actual: Any, assertion: ValueAssertion | None, what: str) -> None:
    """CheckFailed(MISMATCH) unless `actual <operator> value` holds."""
    if assertion is None:
        return
    verdict = compare(actual, assertion.operator, assertion.value)
    if verdict is None:
        raise CheckFailed(
            FailureClass.MISMATCH,
            f"{what} is {snippet(str(actual))!r}, "
            f"not comparable with {assertion.operator} {assertion.value!r}",
            value=snippet(str(actual)),
        )
    if not verdict:
        raise CheckFailed(
            FailureClass.MISMATCH,
            f"{what} is {snippet(str(actual))!r}, expected {assertion.operator} {assertion.value!r}",
            value=snippet(str(actual)),
        )


def first_rows(cur: Any) -> tuple[int, Any]:
    """(row count up to 10,000, first column of the first row or None) of a DB-API cursor that ran."""
    if cur.description is None:
        return 0, None
    rows = cur.fetchmany(10_000)
    return len(rows), rows[0][0] if rows and rows[0] else None


def assert_rows(s: SqlSpec, count: int, first: Any) -> None:
    if s.minRows is not None and count < s.minRows:
        raise CheckFailed(
            FailureClass.MISMATCH, f"the query returned {count} rows, expected at least {s.minRows}"
        )
    if s.maxRows is not None and count > s.maxRows:
        raise CheckFailed(
            FailureClass.MISMATCH, f"the query returned {count} rows, expected at most {s.maxRows}"
        )
    if s.result is not None and count == 0:
        raise CheckFailed(FailureClass.MISMATCH, "the query returned no rows to compare")
    check_value(first, s.result, "the first value")


def has(text: str, *needles: str) -> bool:
    low = text.lower()
    return any(n in low for n in needles)
