"""The redis checker against the machine's Redis, with an ACL user made for the test."""

from __future__ import annotations

import secrets as pysecrets
from collections.abc import Iterator

import pytest
import redis

from app.model import FailureClass

from .services import HOST, require

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def acl_user() -> Iterator[dict[str, str]]:
    """An ACL user allowed PING, INFO and GET on keys under its prefix; deleted afterwards."""
    port = require("redis")
    user, password = f"kk_{pysecrets.token_hex(4)}", pysecrets.token_hex(12)
    admin = redis.Redis(host=HOST, port=port)
    admin.acl_setuser(
        user,
        enabled=True,
        passwords=[f"+{password}"],
        keys=[f"{user}:*"],
        commands=["+ping", "+info", "+get", "+hello", "+client|setname", "+select"],
    )
    admin.set(f"{user}:flag", "on")
    yield {"user": user, "password": password, "key": f"{user}:flag"}
    admin.acl_deluser(user)
    admin.delete(f"{user}:flag")
    admin.close()


@pytest.fixture
def srv(acl_user, secrets) -> dict[str, object]:
    secrets["redis"] = {"password": acl_user["password"], "wrong": "nope"}
    return {
        "host": HOST,
        "port": require("redis"),
        "username": acl_user["user"],
        "passwordSecretRef": {"name": "redis", "key": "password"},
    }


def test_outcomes(run, srv, acl_user) -> None:
    key = acl_user["key"]
    cases = [
        ({}, True, None, "PING on 127.0.0.1:"),
        ({"command": ["GET", key], "result": {"value": "on"}}, True, None, ": on"),
        ({"infoField": "role", "result": {"value": "master"}}, True, None, "INFO role"),
        ({"infoField": "connected_clients", "result": {"operator": ">=", "value": "1"}}, True, None, "INFO"),
        (
            {"command": ["GET", key], "result": {"value": "off"}},
            False,
            FailureClass.MISMATCH,
            "expected == 'off'",
        ),
        ({"infoField": "no_such_field"}, False, FailureClass.MISMATCH, "no field"),
        (
            {"passwordSecretRef": {"name": "redis", "key": "wrong"}},
            False,
            FailureClass.AUTH,
            "rejected the login",
        ),
        ({"command": ["SET", key, "x"]}, False, FailureClass.PERMISSION, "permission"),
        ({"command": ["GET", "not-mine"]}, False, FailureClass.PERMISSION, "permission"),
    ]
    for settings, ok, failure, reason in cases:
        result = run("redis", {**srv, **settings}, timeout="1s")
        assert (result.ok, result.failure) == (ok, failure), (settings, result.reason)
        assert reason in result.reason, (settings, result.reason)


def test_unknown_command_and_slow_reply(run) -> None:
    port = require("redis")
    bad = run("redis", {"host": HOST, "port": port, "command": ["NOSUCHCOMMAND"]}, timeout="1s")
    assert bad.failure is FailureClass.CONFIG and "unknown command" in bad.reason
    slow = run("redis", {"host": HOST, "port": port, "command": ["BLPOP", "kk-never", "5"]}, timeout="0.5s")
    assert slow.failure is FailureClass.TIMEOUT, slow.reason


def test_refused(run, closed_port) -> None:
    result = run("redis", {"host": HOST, "port": closed_port})
    assert result.failure is FailureClass.REFUSED, result.reason
