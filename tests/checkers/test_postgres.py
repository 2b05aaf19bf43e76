"""The postgres checker against the machine's PostgreSQL (trust auth on loopback)."""

from __future__ import annotations

import pytest

from app.model import FailureClass

from .services import HOST, require

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def pg() -> dict[str, object]:
    return {"host": HOST, "port": require("postgres")}


CASES = [
    # (id, settings, ok, failure, piece of the reason)
    ("select-1", {}, True, None, "returned 1 row(s)"),
    ("value-assertion", {"query": "SELECT 40 + 2", "result": {"value": "42"}}, True, None, "1 row"),
    (
        "numeric-compare",
        {"query": "SELECT count(*) FROM pg_database", "result": {"operator": ">=", "value": "1"}},
        True,
        None,
        "1 row",
    ),
    ("min-rows", {"query": "SELECT generate_series(1, 3)", "minRows": 3, "maxRows": 3}, True, None, "3 row"),
    (
        "too-few-rows",
        {"query": "SELECT 1 WHERE false", "minRows": 1},
        False,
        FailureClass.MISMATCH,
        "returned 0 rows, expected at least 1",
    ),
    (
        "too-many-rows",
        {"query": "SELECT generate_series(1, 5)", "maxRows": 2},
        False,
        FailureClass.MISMATCH,
        "expected at most 2",
    ),
    (
        "wrong-value",
        {"query": "SELECT 'replica'", "result": {"value": "primary"}},
        False,
        FailureClass.MISMATCH,
        "is 'replica', expected == 'primary'",
    ),
    ("unknown-role", {"username": "kubekuma_nobody"}, False, FailureClass.AUTH, "rejected the login"),
    ("unknown-database", {"database": "kubekuma_no_such_db"}, False, FailureClass.CONFIG, "does not exist"),
    (
        "bad-query",
        {"query": "SELECT * FROM kubekuma_no_such_table"},
        False,
        FailureClass.CONFIG,
        "does not exist",
    ),
    (
        "read-only",
        {"query": "CREATE TABLE kubekuma_probe (x int)"},
        False,
        FailureClass.PROTOCOL,
        "read-only transaction",
    ),
    ("slow-query", {"query": "SELECT pg_sleep(3)"}, False, FailureClass.TIMEOUT, "statement timeout"),
]


@pytest.mark.parametrize(
    ("settings", "ok", "failure", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_postgres_outcomes(run, pg, settings, ok, failure, reason) -> None:
    result = run("postgres", {**pg, **settings}, timeout="1s")
    assert (result.ok, result.failure) == (ok, failure), result.reason
    assert reason in result.reason


def test_refused_and_password_from_secret(run, make_ctx, secrets, closed_port) -> None:
    result = run("postgres", {"host": HOST, "port": closed_port})
    assert result.failure is FailureClass.REFUSED
    secrets["pg"] = {"password": "unused-with-trust"}
    ok = run(
        "postgres",
        {"host": HOST, "port": require("postgres"), "passwordSecretRef": {"name": "pg", "key": "password"}},
    )
    assert ok.ok, ok.reason
    missing = run("postgres", {"host": HOST, "passwordSecretRef": {"name": "absent"}})
    assert missing.failure is FailureClass.CONFIG and "passwordSecretRef" in missing.reason


def test_tls_to_a_server_without_it(run) -> None:
    result = run("postgres", {"host": HOST, "port": require("postgres"), "tls": True, "tlsVerify": False})
    # The machine's PostgreSQL may or may not have TLS; either way the outcome is classified.
    assert result.ok or result.failure in (FailureClass.TLS, FailureClass.AUTH), result.reason
