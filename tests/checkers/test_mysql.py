"""The mysql checker against the machine's MariaDB, with a user of its own made for the test."""

from __future__ import annotations

import secrets as pysecrets
from collections.abc import Iterator

import pymysql
import pytest

from app.model import FailureClass

from .services import HOST, require

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def account() -> Iterator[dict[str, str]]:
    """A user with a password, allowed to read one database, dropped afterwards."""
    port = require("mysql")
    user, password = f"kk_{pysecrets.token_hex(4)}", pysecrets.token_hex(12)
    admin = pymysql.connect(host=HOST, port=port, user="root", password="", autocommit=True)
    with admin.cursor() as cur:
        cur.execute("CREATE DATABASE IF NOT EXISTS kubekuma_probe")
        cur.execute("CREATE TABLE IF NOT EXISTS kubekuma_probe.jobs (id INT)")
        cur.execute("DELETE FROM kubekuma_probe.jobs")
        cur.execute("INSERT INTO kubekuma_probe.jobs VALUES (1), (2)")
        cur.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        cur.execute(f"GRANT SELECT, INSERT ON kubekuma_probe.* TO '{user}'@'%'")
    yield {"user": user, "password": password}
    with admin.cursor() as cur:
        cur.execute(f"DROP USER IF EXISTS '{user}'@'%'")
    admin.close()


@pytest.fixture
def db(account, secrets) -> dict[str, object]:
    secrets["mysql"] = {"password": account["password"], "wrong": "not-the-password"}
    return {
        "host": HOST,
        "port": require("mysql"),
        "username": account["user"],
        "database": "kubekuma_probe",
        "passwordSecretRef": {"name": "mysql", "key": "password"},
    }


CASES = [
    ("select-1", {}, True, None, "returned 1 row(s)"),
    (
        "rows-and-value",
        {"query": "SELECT count(*) FROM jobs", "result": {"operator": "==", "value": "2"}},
        True,
        None,
        "1 row",
    ),
    ("min-rows", {"query": "SELECT id FROM jobs", "minRows": 2}, True, None, "2 row"),
    (
        "too-few-rows",
        {"query": "SELECT id FROM jobs", "minRows": 5},
        False,
        FailureClass.MISMATCH,
        "at least 5",
    ),
    (
        "wrong-value",
        {"query": "SELECT max(id) FROM jobs", "result": {"operator": ">", "value": "10"}},
        False,
        FailureClass.MISMATCH,
        "expected > '10'",
    ),
    (
        "wrong-password",
        {"passwordSecretRef": {"name": "mysql", "key": "wrong"}},
        False,
        FailureClass.AUTH,
        "rejected the login",
    ),
    ("no-access", {"database": "mysql"}, False, FailureClass.PERMISSION, "denied"),
    ("unknown-table", {"query": "SELECT * FROM nope"}, False, FailureClass.CONFIG, "doesn't exist"),
    ("read-only", {"query": "INSERT INTO jobs VALUES (3)"}, False, FailureClass.PROTOCOL, "READ ONLY"),
    ("slow-query", {"query": "SELECT SLEEP(3)"}, False, FailureClass.TIMEOUT, "did not answer"),
]


@pytest.mark.parametrize(
    ("settings", "ok", "failure", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_mysql_outcomes(run, db, settings, ok, failure, reason) -> None:
    result = run("mysql", {**db, **settings}, timeout="1s")
    assert (result.ok, result.failure) == (ok, failure), result.reason
    assert reason in result.reason


def test_refused(run, closed_port) -> None:
    result = run("mysql", {"host": HOST, "port": closed_port})
    assert result.failure is FailureClass.REFUSED, result.reason
