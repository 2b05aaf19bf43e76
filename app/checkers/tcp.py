"""TCP checks: connect, optionally speak TLS, optionally send a line and expect an answer.

Enough to watch databases, mail servers and brokers whose protocol greets or echoes in
plain text (SMTP `220`, Redis `+PONG`), without a client library per protocol.
"""

from __future__ import annotations

import socket
from typing import Any

from app.checkers import tlsclient
from app.checkers.base import CheckContext, register
from app.checkers.content import snippet
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed, classify
from app.checkers.net import connect_tcp
from app.checkers.values import optional_secret
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType, TcpSpec

MAX_READ = 64 * 1024


def converse(
    sock: socket.socket, send: str | None, expect: str | None, target: str, deadline: Deadline
) -> str:
    """Send `send`, then read until `expect` shows up; what was read. CheckFailed when it does not."""
    got = b""
    try:
        if send:
            sock.settimeout(deadline.remaining())
            sock.sendall(send.encode())
        if not expect:
            return ""
        want = expect.encode()
        while want not in got and len(got) < MAX_READ:
            if deadline.expired():
                raise TimeoutError
            sock.settimeout(deadline.remaining())
            chunk = sock.recv(4096)
            if not chunk:
                text = got.decode(errors="replace")
                raise CheckFailed(
                    FailureClass.MISMATCH,
                    f"{target} closed the connection without sending {expect!r}; got {snippet(text)!r}",
                    received=snippet(text),
                )
            got += chunk
        text = got.decode(errors="replace")
        if want not in got:
            raise CheckFailed(
                FailureClass.MISMATCH, f"{expect!r} not in the first {MAX_READ} bytes from {target}"
            )
        return text
    except TimeoutError:
        text = got.decode(errors="replace")
        if text:
            raise CheckFailed(
                FailureClass.MISMATCH,
                f"expected {expect!r} from {target}, got {snippet(text)!r}",
                received=snippet(text),
            ) from None
        raise CheckFailed(
            FailureClass.TIMEOUT, f"{target} accepted the connection but sent nothing in time"
        ) from None
    except OSError as exc:
        failure, reason = classify(exc, target)
        raise CheckFailed(failure, reason) from None


@register(MonitorType.TCP)
def check_tcp(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: TcpSpec = spec.tcp  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    target = f"{s.host}:{s.port}"
    details: dict[str, Any] = {}
    sock: socket.socket | None = None
    try:
        ca = optional_secret(s.caSecretRef, ctx, "caSecretRef")
        sock = connect_tcp(s.host, s.port, deadline)
        details["connectMs"] = deadline.elapsed_ms()
        if s.tls:
            sock, details["cert"] = tlsclient.start_tls(
                sock, s.host, s.port, None, s.tlsVerify, ca, deadline, None, ctx
            )
        received = converse(sock, s.send, s.expect, target, deadline)
        if received:
            details["received"] = snippet(received)
        return CheckResult.up(deadline.elapsed_ms(), f"connected to {target}", **details)
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms(), **details)
    finally:
        if sock is not None:
            sock.close()
