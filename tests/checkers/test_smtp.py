"""The smtp checker against real aiosmtpd servers on 127.0.0.1: plain, STARTTLS and implicit TLS."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from app.model import FailureClass

from .servers import Pki, free_port

pytestmark = pytest.mark.timeout(30)


class Sink:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


@pytest.fixture
def smtp_server(pki: Pki) -> Iterator[Callable[..., int]]:
    """Start aiosmtpd: mode 'plain', 'starttls' (offers it) or 'tls' (implicit), with a named leaf."""
    started: list[Controller] = []

    def start(mode: str = "plain", leaf: str = "good") -> int:
        port = free_port()
        kw: dict[str, Any] = {"ident": "KubeKuma test ESMTP"}
        if mode != "plain":
            ctx: ssl.SSLContext = pki.server_context(pki.leaves[leaf])
            kw["tls_context" if mode == "starttls" else "ssl_context"] = ctx
        ctl = Controller(Sink(), hostname="127.0.0.1", port=port, **kw)
        ctl.start()
        started.append(ctl)
        return port

    yield start
    for c in started:
        c.stop()


@pytest.fixture
def trusted(secrets, pki: Pki) -> dict[str, Any]:
    secrets["ca"] = {"ca.crt": pki.ca_pem}
    return {"caSecretRef": {"name": "ca", "key": "ca.crt"}}


def test_plain_greeting(run, smtp_server) -> None:
    port = smtp_server()
    ok = run("smtp", {"host": "127.0.0.1", "port": port, "expectBanner": "ESMTP"})
    assert ok.ok and "KubeKuma test ESMTP" in ok.details["banner"], ok.reason
    wrong = run("smtp", {"host": "127.0.0.1", "port": port, "expectBanner": "Postfix"})
    assert wrong.failure is FailureClass.MISMATCH and "lacks 'Postfix'" in wrong.reason
    no_tls = run("smtp", {"host": "127.0.0.1", "port": port, "security": "starttls"})
    assert no_tls.failure is FailureClass.TLS and "does not offer STARTTLS" in no_tls.reason


def test_starttls_and_certificate(run, smtp_server, trusted) -> None:
    port = smtp_server("starttls")
    ok = run("smtp", {"host": "127.0.0.1", "port": port, "security": "starttls", **trusted})
    assert ok.ok and ok.reason.endswith("greeted with STARTTLS"), ok.reason
    assert ok.details["cert"]["daysLeft"] >= 88
    untrusted = run("smtp", {"host": "127.0.0.1", "port": port, "security": "starttls"})
    assert untrusted.failure is FailureClass.CERTIFICATE, untrusted.reason
    unverified = run("smtp", {"host": "127.0.0.1", "port": port, "security": "starttls", "tlsVerify": False})
    assert unverified.ok, unverified.reason


def test_expiring_and_expired(run, smtp_server, trusted) -> None:
    soon = run(
        "smtp",
        {"host": "127.0.0.1", "port": smtp_server("starttls", "soon"), "security": "starttls", **trusted},
    )
    assert soon.ok and soon.details["cert"]["warn"] == 7, soon.details
    expired = run(
        "smtp",
        {"host": "127.0.0.1", "port": smtp_server("starttls", "expired"), "security": "starttls", **trusted},
    )
    assert expired.failure is FailureClass.CERTIFICATE and "expired" in expired.reason


def test_implicit_tls(run, smtp_server, trusted) -> None:
    port = smtp_server("tls")
    ok = run("smtp", {"host": "127.0.0.1", "port": port, "security": "tls", **trusted})
    assert ok.ok and ok.reason.endswith("greeted over TLS") and "cert" in ok.details, ok.reason
    plain_to_tls = run("smtp", {"host": "127.0.0.1", "port": port}, timeout="0.5s")
    assert not plain_to_tls.ok and plain_to_tls.failure is not FailureClass.ERROR, plain_to_tls.reason


def test_refused_and_silent(run, closed_port, tcp_server) -> None:
    assert run("smtp", {"host": "127.0.0.1", "port": closed_port}).failure is FailureClass.REFUSED
    hung = run("smtp", {"host": "127.0.0.1", "port": tcp_server("silent").port}, timeout="0.5s")
    assert hung.failure is FailureClass.TIMEOUT, hung.reason
    banner = run("smtp", {"host": "127.0.0.1", "port": tcp_server("banner").port}, timeout="0.5s")
    assert not banner.ok and banner.failure is not FailureClass.ERROR, banner.reason
