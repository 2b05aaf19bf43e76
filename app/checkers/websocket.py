"""WebSocket checks: the upgrade handshake, then optionally send a message and expect a reply.

Built on websocket-client. The whole exchange runs under the check's deadline in a helper
thread, because the library resolves names and reads the handshake with per-call
timeouts only. The connection is dropped after a close frame without waiting for the
server's, so a server that never answers the close cannot hold the check.
"""

from __future__ import annotations

import ssl
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

import websocket

from app.checkers import certs, tlsclient
from app.checkers.base import CheckContext, register
from app.checkers.content import snippet
from app.checkers.deadline import Deadline, DeadlineExceeded, call_within
from app.checkers.errors import CheckFailed, classify
from app.checkers.values import optional_secret, pairs
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType, WebsocketSpec


def _context(s: WebsocketSpec, ctx: CheckContext) -> ssl.SSLContext:
    ca = optional_secret(s.tls.caSecretRef, ctx, "tls.caSecretRef")
    cert = optional_secret(s.tls.clientCertSecretRef, ctx, "tls.clientCertSecretRef")
    key = optional_secret(s.tls.clientKeySecretRef, ctx, "tls.clientKeySecretRef")
    try:
        return tlsclient.client_context(s.tls.verify, ca, cert, key)
    except (ssl.SSLError, ValueError) as exc:
        raise CheckFailed(
            FailureClass.CONFIG, f"TLS settings from Secrets are not usable PEM: {exc}"
        ) from None


def _await(ws: websocket.WebSocket, expect: str, target: str, deadline: Deadline) -> str:
    """Messages are read until one contains `expect`; the matching message."""
    last = ""
    while not deadline.expired():
        ws.settimeout(deadline.remaining())
        try:
            message = ws.recv()
        except websocket.WebSocketTimeoutException:
            break
        text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
        if expect in text:
            return text
        last = text
    if last:
        raise CheckFailed(
            FailureClass.MISMATCH, f"expected {expect!r} from {target}, last got {snippet(last)!r}"
        )
    raise CheckFailed(FailureClass.TIMEOUT, f"{target} sent no message within the timeout")


def _exchange(s: WebsocketSpec, ctx: CheckContext, deadline: Deadline) -> CheckResult:
    target = urlsplit(s.url).netloc
    details: dict[str, Any] = {"url": s.url}
    with ExitStack() as stack:
        headers = [f"{k}: {v}" for k, v in pairs(s.headers, ctx, "header")]
        sslopt: dict[str, Any] = {}
        if s.url.startswith("wss:"):
            sslopt = {"context": _context(s, ctx), "check_hostname": s.tls.verify}
            if not s.tls.verify:
                sslopt["cert_reqs"] = ssl.CERT_NONE
        ws = websocket.create_connection(
            s.url, timeout=deadline.remaining(), header=headers, sslopt=sslopt, enable_multithread=False
        )
        stack.callback(ws.shutdown)
        stack.callback(_close_quietly, ws)
        details["handshakeMs"] = deadline.elapsed_ms()
        der = tlsclient.peer_der(ws.sock)
        if der:
            details["cert"] = certs.describe(der, urlsplit(s.url).hostname or "", ctx.clock())
        if s.send is not None:
            ws.settimeout(deadline.remaining())
            ws.send(s.send)
        if s.expect is not None:
            details["received"] = snippet(_await(ws, s.expect, target, deadline))
        return CheckResult.up(
            deadline.elapsed_ms(), f"WebSocket handshake with {target} succeeded", **details
        )


def _close_quietly(ws: websocket.WebSocket) -> None:
    try:
        ws.send_close()
    except Exception:  # the peer may be gone already; the socket is shut down next anyway
        pass


def _failure(exc: Exception, s: WebsocketSpec, ctx: CheckContext, deadline: Deadline) -> CheckResult:
    parts = urlsplit(s.url)
    target = parts.netloc
    details: dict[str, Any] = {"url": s.url}
    if isinstance(exc, websocket.WebSocketBadStatusException):
        failure = FailureClass.STATUS
        reason = (
            f"handshake with {target} answered HTTP {exc.status_code} {exc.status_message or ''}".rstrip()
        )
        reason += " instead of 101 Switching Protocols"
        details["statusCode"] = exc.status_code
    elif isinstance(exc, websocket.WebSocketTimeoutException | TimeoutError):
        failure, reason = FailureClass.TIMEOUT, f"{target} did not complete the WebSocket exchange in time"
    elif isinstance(exc, websocket.WebSocketAddressException):
        failure, reason = FailureClass.DNS, f"cannot resolve {parts.hostname}: {exc}"
    elif isinstance(exc, websocket.WebSocketConnectionClosedException):
        failure, reason = FailureClass.RESET, f"{target} closed the WebSocket connection"
    elif isinstance(exc, websocket.WebSocketProtocolException | websocket.WebSocketPayloadException):
        failure, reason = FailureClass.PROTOCOL, f"{target} broke the WebSocket protocol: {exc}"
    else:
        failure, reason = classify(exc, target)
        if failure is FailureClass.ERROR and isinstance(exc, websocket.WebSocketException):
            failure, reason = FailureClass.PROTOCOL, f"WebSocket exchange with {target} failed: {exc}"
    if failure is FailureClass.CERTIFICATE:
        der = tlsclient.fetch_der(parts.hostname or "", parts.port or 443, None, deadline)
        if der:
            details["cert"] = certs.describe(der, parts.hostname or "", ctx.clock())
    return CheckResult.down(failure, reason, deadline.elapsed_ms(), **details)


def _check(s: WebsocketSpec, ctx: CheckContext, deadline: Deadline) -> CheckResult:
    try:
        return _exchange(s, ctx, deadline)
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms(), url=s.url)
    except (websocket.WebSocketException, OSError) as exc:
        return _failure(exc, s, ctx, deadline)


@register(MonitorType.WEBSOCKET)
def check_websocket(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: WebsocketSpec = spec.websocket  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    try:
        return call_within(lambda: _check(s, ctx, deadline), deadline)
    except DeadlineExceeded:
        return CheckResult.down(
            FailureClass.TIMEOUT,
            f"no WebSocket answer from {urlsplit(s.url).netloc} within {spec.timeout:g}s",
            deadline.elapsed_ms(),
            url=s.url,
        )
