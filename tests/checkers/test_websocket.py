"""The websocket checker against a hand-written RFC 6455 server on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from app.model import FailureClass

from .servers import SLACK_S

pytestmark = pytest.mark.timeout(30)

CASES = [
    # (id, path, settings, ok, failure, piece of the reason)
    ("handshake-only", "/", {}, True, None, "WebSocket handshake with 127.0.0.1:"),
    ("send-expect", "/", {"send": "ping", "expect": "PING"}, True, None, "succeeded"),
    ("greeting-expected", "/hello", {"expect": "hello"}, True, None, "succeeded"),
    (
        "expect-mismatch",
        "/",
        {"send": "ping", "expect": "pong"},
        False,
        FailureClass.MISMATCH,
        "last got 'PING'",
    ),
    ("nothing-sent-back", "/mute", {"expect": "x"}, False, FailureClass.TIMEOUT, "sent no message"),
    (
        "forbidden-without-header",
        "/private",
        {},
        False,
        FailureClass.STATUS,
        "answered HTTP 403 Forbidden instead of 101 Switching Protocols",
    ),
    (
        "header-from-secret",
        "/private",
        {"headers": [{"name": "X-Token", "valueFrom": {"secretKeyRef": {"name": "ws", "key": "token"}}}]},
        True,
        None,
        "",
    ),
]


@pytest.mark.parametrize(
    ("path", "settings", "ok", "failure", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_websocket_outcomes(run, ws_server, secrets, path, settings, ok, failure, reason) -> None:
    secrets["ws"] = {"token": "letmein"}
    srv = ws_server()
    result = run("websocket", {"url": f"ws://{srv.host}:{srv.port}{path}", **settings}, timeout="0.5s")
    assert (result.ok, result.failure) == (ok, failure), result.reason
    assert reason in result.reason


def test_received_message_is_shown(run, ws_server) -> None:
    srv = ws_server()
    result = run("websocket", {"url": f"ws://{srv.host}:{srv.port}/", "send": "hello", "expect": "HELLO"})
    assert result.details["received"] == "HELLO"
    assert result.details["handshakeMs"] <= result.latency_ms


def test_mute_server_cannot_outlive_the_timeout(run, ws_server) -> None:
    srv = ws_server()
    start = time.perf_counter()
    result = run("websocket", {"url": f"ws://{srv.host}:{srv.port}/mute", "expect": "x"}, timeout="0.5s")
    assert result.failure is FailureClass.TIMEOUT
    assert time.perf_counter() - start < 0.5 + SLACK_S


def test_refused(run, closed_port) -> None:
    result = run("websocket", {"url": f"ws://127.0.0.1:{closed_port}/"})
    assert (result.ok, result.failure) == (False, FailureClass.REFUSED)


def test_unresolvable(run) -> None:
    result = run("websocket", {"url": "ws://nothing.invalid/"})
    assert (result.ok, result.failure) == (False, FailureClass.DNS)
    assert "nothing.invalid" in result.reason


def test_not_a_websocket_server(run, web) -> None:
    result = run("websocket", {"url": f"ws://{web.host}:{web.port}/ok"})
    assert (result.ok, result.failure) == (False, FailureClass.STATUS)
    assert "HTTP 200" in result.reason


def test_wss_with_trusted_ca_records_the_certificate(run, ws_server, pki, secrets) -> None:
    secrets["ca"] = {"ca.crt": pki.ca_pem}
    srv = ws_server(pki.server_context(pki.leaves["good"]))
    tls = {"caSecretRef": {"name": "ca", "key": "ca.crt"}}
    result = run(
        "websocket", {"url": f"wss://{srv.host}:{srv.port}/", "tls": tls, "send": "a", "expect": "A"}
    )
    assert result.ok, result.reason
    assert result.details["cert"]["subject"] == "localhost"


@pytest.mark.parametrize(
    ("leaf", "verify", "ok", "failure", "reason"),
    [
        ("good", True, False, FailureClass.CERTIFICATE, "unable to get local issuer"),
        ("expired", True, False, FailureClass.CERTIFICATE, "certificate has expired"),
        ("expired", False, True, None, "succeeded"),
    ],
    ids=["untrusted", "expired", "expired-verify-off"],
)
def test_wss_verification(run, ws_server, pki, secrets, leaf, verify, ok, failure, reason) -> None:
    secrets["ca"] = {"ca.crt": pki.ca_pem}
    srv = ws_server(pki.server_context(pki.leaves[leaf]))
    tls = {
        "verify": verify,
        **({"caSecretRef": {"name": "ca", "key": "ca.crt"}} if leaf == "expired" else {}),
    }
    result = run("websocket", {"url": f"wss://{srv.host}:{srv.port}/", "tls": tls})
    assert (result.ok, result.failure) == (ok, failure), result.reason
    assert reason in result.reason
    assert result.details["cert"]["expired"] is (leaf == "expired")
