"""SMTP checks: the 220 greeting, EHLO, and optionally STARTTLS (or implicit TLS) with the
certificate described and its expiry warned about, then QUIT. No mail is sent.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from typing import Any

from app.checkers.base import CheckContext, register
from app.checkers.certs import describe
from app.checkers.content import snippet
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed, classify
from app.checkers.net import connect_tcp
from app.checkers.tlsclient import client_context, peer_der
from app.checkers.values import optional_secret
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType
from app.resources.services import SmtpSpec


class _Client(smtplib.SMTP):
    """smtplib with our connect: resolution and connect bounded by the check's deadline."""

    def __init__(self, deadline: Deadline, helo: str) -> None:
        super().__init__(local_hostname=helo, timeout=deadline.remaining())
        self.deadline = deadline

    def connect(
        self, host: str = "localhost", port: int = 0, source_address: Any = None
    ) -> tuple[int, bytes]:
        self._host = host  # what starttls verifies the certificate against (set only by __init__)
        return super().connect(host, port, source_address)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = connect_tcp(host, port, self.deadline)
        sock.settimeout(self.deadline.remaining())
        return sock


def _tls_error(exc: BaseException, target: str) -> CheckFailed:
    failure, reason = classify(exc, target)
    return CheckFailed(FailureClass.TLS if failure is FailureClass.ERROR else failure, reason)


def converse(s: SmtpSpec, ctx: CheckContext, deadline: Deadline) -> dict[str, Any]:
    target = f"{s.host}:{s.port}"
    tls_ctx: ssl.SSLContext | None = None
    if s.security != "none":
        tls_ctx = client_context(s.tlsVerify, optional_secret(s.caSecretRef, ctx, "caSecretRef"))
    client = _Client(deadline, s.heloName)
    info: dict[str, Any] = {}
    try:
        if s.security == "tls":
            sock = connect_tcp(s.host, s.port, deadline)
            try:
                sock = tls_ctx.wrap_socket(sock, server_hostname=s.host)  # type: ignore[union-attr]
            except (OSError, ValueError) as exc:
                sock.close()
                raise _tls_error(exc, target) from None
            client.sock, client.file, client._host = sock, None, s.host
            code, banner = client.getreply()
        else:
            code, banner = client.connect(s.host, s.port)
        info["banner"] = snippet(banner.decode(errors="replace"), 200)
        if code != 220:
            raise CheckFailed(
                FailureClass.PROTOCOL, f"{target} greeted with {code} {info['banner']!r}", **info
            )
        if s.expectBanner and s.expectBanner not in info["banner"]:
            raise CheckFailed(FailureClass.MISMATCH, f"the greeting lacks {s.expectBanner!r}", **info)
        client.sock.settimeout(deadline.remaining())  # type: ignore[union-attr]
        code, _ = client.ehlo()
        if code != 250:
            raise CheckFailed(FailureClass.PROTOCOL, f"{target} answered EHLO with {code}", **info)
        if s.security == "starttls":
            if not client.has_extn("starttls"):
                raise CheckFailed(FailureClass.TLS, f"{target} does not offer STARTTLS", **info)
            try:
                client.starttls(context=tls_ctx)
            except (OSError, ValueError) as exc:
                raise _tls_error(exc, target) from None
        if tls_ctx is not None:
            der = peer_der(client.sock)
            if der:
                info["cert"] = describe(der, s.host, ctx.clock(), s.warnDays)
        client.sock.settimeout(deadline.remaining())  # type: ignore[union-attr]
        client.quit()
        return info
    except smtplib.SMTPServerDisconnected as exc:
        if "timed out" in str(exc):  # smtplib turns a read timeout into a disconnect
            raise CheckFailed(FailureClass.TIMEOUT, f"{target} did not answer in time", **info) from None
        raise CheckFailed(FailureClass.RESET, f"{target} closed the connection", **info) from None
    except smtplib.SMTPResponseException as exc:
        raise CheckFailed(FailureClass.PROTOCOL, f"{target} answered {exc.smtp_code}", **info) from None
    except (OSError, ssl.SSLError) as exc:
        failure, reason = classify(exc, target)
        raise CheckFailed(failure, reason, **info) from None
    finally:
        client.close()


@register(MonitorType.SMTP)
def check_smtp(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: SmtpSpec = spec.smtp  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    try:
        info = converse(s, ctx, deadline)
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms())
    how = {"none": "", "starttls": " with STARTTLS", "tls": " over TLS"}[s.security]
    return CheckResult.up(deadline.elapsed_ms(), f"{s.host}:{s.port} greeted{how}", **info)
