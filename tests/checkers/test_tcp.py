"""The tcp checker against real TCP (and TLS) servers on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from app.model import FailureClass

from .servers import SLACK_S

pytestmark = pytest.mark.timeout(30)

CASES = [
    # (id, server behaviour, settings, ok, failure, piece of the reason)
    ("connect-only", "silent", {}, True, None, "connected to 127.0.0.1:"),
    ("echo-send-expect", "echo", {"send": "PING\r\n", "expect": "PING"}, True, None, "connected"),
    ("banner-expect", "banner", {"expect": "220 "}, True, None, "connected"),
    ("send-without-expect", "echo", {"send": "hello"}, True, None, "connected"),
    (
        "banner-mismatch",
        "banner",
        {"expect": "+PONG"},
        False,
        FailureClass.MISMATCH,
        "expected '+PONG' from 127.0.0.1:",
    ),
    (
        "closed-before-expect",
        "close",
        {"expect": "hello"},
        False,
        FailureClass.MISMATCH,
        "closed the connection without sending 'hello'; got 'bye'",
    ),
    (
        "silent-server",
        "silent",
        {"expect": "anything"},
        False,
        FailureClass.TIMEOUT,
        "accepted the connection but sent nothing in time",
    ),
    ("expect-in-a-later-chunk", "chatter", {"expect": "line 7"}, True, None, "connected"),
]


@pytest.mark.parametrize(
    ("behaviour", "settings", "ok", "failure", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_tcp_outcomes(run, tcp_server, behaviour, settings, ok, failure, reason) -> None:
    srv = tcp_server(behaviour)
    result = run("tcp", {"host": srv.host, "port": srv.port, **settings}, timeout="0.5s")
    assert (result.ok, result.failure) == (ok, failure), result.reason
    assert reason in result.reason


def test_received_text_is_shown(run, tcp_server) -> None:
    srv = tcp_server("banner")
    result = run("tcp", {"host": srv.host, "port": srv.port, "expect": "ESMTP"})
    assert result.details["received"] == "220 mail.test ESMTP ready"
    assert result.details["connectMs"] <= result.latency_ms


def test_a_greeting_with_nul_bytes_is_shown_with_replacement_characters(run, tcp_server) -> None:
    srv = tcp_server("nul")
    result = run("tcp", {"host": srv.host, "port": srv.port, "expect": "READY"})
    assert (result.ok, result.failure) == (False, FailureClass.MISMATCH)
    assert result.details["received"] == "\ufffd\ufffdKK\ufffd greeting\ufffd"
    assert "\x00" not in result.reason and "\\x00" not in result.reason, result.reason


def test_refused(run, closed_port) -> None:
    result = run("tcp", {"host": "127.0.0.1", "port": closed_port})
    assert (result.ok, result.failure) == (False, FailureClass.REFUSED)
    assert "refused" in result.reason


def test_unresolvable(run) -> None:
    result = run("tcp", {"host": "nothing.invalid", "port": 80})
    assert (result.ok, result.failure) == (False, FailureClass.DNS)
    assert "cannot resolve nothing.invalid" in result.reason


def test_silent_server_ends_on_time(run, tcp_server) -> None:
    srv = tcp_server("silent")
    start = time.perf_counter()
    result = run("tcp", {"host": srv.host, "port": srv.port, "expect": "x"}, timeout="0.5s")
    assert result.failure is FailureClass.TIMEOUT
    assert time.perf_counter() - start < 0.5 + SLACK_S


def test_tls_echo_with_trusted_ca(run, tcp_server, pki, secrets) -> None:
    secrets["ca"] = {"value": pki.ca_pem}
    srv = tcp_server("echo", pki.server_context(pki.leaves["good"]))
    result = run(
        "tcp",
        {
            "host": srv.host,
            "port": srv.port,
            "tls": True,
            "caSecretRef": {"name": "ca"},
            "send": "hi",
            "expect": "hi",
        },
    )
    assert result.ok, result.reason
    assert result.details["cert"]["subject"] == "localhost"


@pytest.mark.parametrize(
    ("leaf", "verify", "ok", "failure", "reason"),
    [
        ("good", True, False, FailureClass.CERTIFICATE, "trust it with caSecretRef"),
        ("good", False, True, None, "connected"),
        ("expired", False, True, None, "connected"),
    ],
    ids=["untrusted-ca", "verify-off", "expired-verify-off"],
)
def test_tls_verification(run, tcp_server, pki, leaf, verify, ok, failure, reason) -> None:
    srv = tcp_server("echo", pki.server_context(pki.leaves[leaf]))
    result = run("tcp", {"host": srv.host, "port": srv.port, "tls": True, "tlsVerify": verify})
    assert (result.ok, result.failure) == (ok, failure), result.reason
    assert reason in result.reason
    assert result.details["cert"]["issuer"] == "KubeKuma Test CA"


def test_tls_to_a_plain_server_is_a_tls_failure(run, tcp_server) -> None:
    srv = tcp_server("banner")
    result = run("tcp", {"host": srv.host, "port": srv.port, "tls": True, "tlsVerify": False})
    assert not result.ok
    assert result.failure in (FailureClass.TLS, FailureClass.RESET), result.reason
