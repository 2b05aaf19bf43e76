"""MySQL and MariaDB checks: connect, authenticate, run one query in a read-only session, assert on rows."""

from __future__ import annotations

from typing import Any

import pymysql

from app.checkers.base import CheckContext, register
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed
from app.checkers.service import assert_rows, converse, first_rows, password, tls_context
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType
from app.resources.services import SqlSpec

DEFAULT_PORT = 3306
_AUTH = {1045, 1698, 1251, 2049}  # access denied, plugin refused, client too old, old auth
_PERMISSION = {1044, 1142, 1143, 1227}  # no access to the database, table, column; missing privilege
_CONFIG = {1049, 1064, 1146, 1054, 1109}  # unknown database, syntax, unknown table or column
_TIMEOUT = {1969, 3024}  # MariaDB max_statement_time, MySQL max_execution_time


def explain(exc: BaseException, target: str) -> tuple[FailureClass, str] | None:
    if not isinstance(exc, pymysql.err.MySQLError):
        return None
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if code in _AUTH:
        return FailureClass.AUTH, f"MySQL rejected the login: {text}"
    if code in _PERMISSION:
        return FailureClass.PERMISSION, f"MySQL: {text}"
    if code in _CONFIG:
        return FailureClass.CONFIG, f"MySQL: {text}"
    if code in _TIMEOUT:
        return FailureClass.TIMEOUT, f"MySQL: {text}"
    if code in (2003, 2006, 2013):  # cannot connect, gone away, lost: the socket error says why
        return None
    return FailureClass.PROTOCOL, f"MySQL error {code}: {text}"


def run_query(s: SqlSpec, args: dict[str, Any]) -> tuple[int, Any]:
    conn = pymysql.connect(**args)
    try:
        with conn.cursor() as cur:
            cur.execute("SET SESSION TRANSACTION READ ONLY")
            cur.execute(s.query)
            return first_rows(cur)
    finally:
        conn.close()


@register(MonitorType.MYSQL)
def check_mysql(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: SqlSpec = spec.mysql  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    port = s.port or DEFAULT_PORT
    target = f"{s.host}:{port}"
    try:
        args: dict[str, Any] = {
            "host": s.host, "port": port, "user": s.username or "root", "password": password(s, ctx) or "",
            "database": s.database, "connect_timeout": deadline.remaining(), "autocommit": True,
            "read_timeout": deadline.remaining(), "write_timeout": deadline.remaining(),
            # Without TLS say so: PyMySQL would otherwise load the system trust store per connection
            # (~20 ms of CPU) to offer TLS the check did not ask for.
            "ssl": tls_context(s, ctx),
            "ssl_disabled": not s.tls, "program_name": "kubekuma",
        }  # fmt: skip
        count, first = converse(lambda: run_query(s, args), deadline, target, explain)
        assert_rows(s, count, first)
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms())
    details: dict[str, Any] = {"rows": count}
    if first is not None:
        details["value"] = str(first)[:200]
    return CheckResult.up(deadline.elapsed_ms(), f"query on {target} returned {count} row(s)", **details)
