"""PostgreSQL checks: connect, authenticate, run one read-only query, assert on its rows.

The session is read-only and carries a `statement_timeout` from the check's deadline, so a
monitor's query can neither change data nor outlive the check on the server.
"""

from __future__ import annotations

import math
from typing import Any

import psycopg2

from app.checkers.base import CheckContext, register
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed
from app.checkers.service import assert_rows, converse, first_rows, has, password
from app.checkers.tlsclient import ca_file
from app.checkers.values import optional_secret
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType
from app.resources.services import SqlSpec

DEFAULT_PORT = 5432


def explain(exc: BaseException, target: str) -> tuple[FailureClass, str] | None:
    """psycopg2 reports connection failures as text and query failures by SQLSTATE."""
    if not isinstance(exc, psycopg2.Error):
        return None
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    code = getattr(exc, "pgcode", None) or ""
    if code == "57014" or has(text, "timeout expired", "statement timeout"):
        return FailureClass.TIMEOUT, f"PostgreSQL: {text}"
    if code.startswith("28") or has(
        text, "password authentication failed", "no password supplied", "pg_hba.conf", 'role "'
    ):
        return FailureClass.AUTH, f"PostgreSQL rejected the login: {text}"
    if code == "42501" or has(text, "permission denied"):
        return FailureClass.PERMISSION, f"PostgreSQL: {text}"
    if code.startswith("42") or (has(text, 'database "') and has(text, "does not exist")):
        return FailureClass.CONFIG, f"PostgreSQL: {text}"
    if has(text, "connection refused"):
        return FailureClass.REFUSED, f"PostgreSQL: {text}"
    if has(text, "could not translate host name"):
        return FailureClass.DNS, f"PostgreSQL: {text}"
    if has(text, "certificate verify failed", "certificate"):
        return FailureClass.CERTIFICATE, f"PostgreSQL: {text}"
    if has(text, "ssl"):
        return FailureClass.TLS, f"PostgreSQL: {text}"
    if code:
        return FailureClass.PROTOCOL, f"the query failed: {text}"
    return FailureClass.PROTOCOL, f"PostgreSQL: {text}"


def connect_args(s: SqlSpec, secret: str | None, ca: str | None, deadline: Deadline) -> dict[str, Any]:
    args: dict[str, Any] = {
        "host": s.host,
        "port": s.port or DEFAULT_PORT,
        "dbname": s.database or "postgres",
        "user": s.username or "postgres",
        # libpq takes whole seconds (and treats 1 as 2); a late answer still counts as a timeout.
        "connect_timeout": max(2, math.ceil(deadline.remaining())),
        "application_name": "kubekuma",
        "options": f"-c statement_timeout={max(1, int(deadline.remaining() * 1000))}",
        "sslmode": "disable",
    }
    if secret is not None:
        args["password"] = secret
    if s.tls:
        args["sslmode"] = "verify-full" if s.tlsVerify else "require"
        if s.tlsVerify:
            args["sslrootcert"] = ca_file(ca) if ca else "system"
    return args


def run_query(s: SqlSpec, args: dict[str, Any]) -> tuple[int, Any]:
    """(row count, first column of the first row or None)."""
    conn = psycopg2.connect(**args)
    try:
        conn.set_session(readonly=True, autocommit=True)
        with conn.cursor() as cur:
            cur.execute(s.query)
            return first_rows(cur)
    finally:
        conn.close()


@register(MonitorType.POSTGRES)
def check_postgres(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: SqlSpec = spec.postgres  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    target = f"{s.host}:{s.port or DEFAULT_PORT}"
    try:
        args = connect_args(s, password(s, ctx), optional_secret(s.caSecretRef, ctx, "caSecretRef"), deadline)
        count, first = converse(lambda: run_query(s, args), deadline, target, explain)
        assert_rows(s, count, first)
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms())
    details: dict[str, Any] = {"rows": count}
    if first is not None:
        details["value"] = str(first)[:200]
    return CheckResult.up(deadline.elapsed_ms(), f"query on {target} returned {count} row(s)", **details)
