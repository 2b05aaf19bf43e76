"""Turning exceptions into a FailureClass and a reason a person can act on.

Every checker meets the same socket, TLS and HTTP-client errors, wrapped differently by
each library (requests wraps urllib3 wraps ssl wraps OSError). Classifying by walking the
whole exception chain keeps that knowledge in one place instead of one per checker.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
from collections.abc import Iterator

from app.model import CheckResult, FailureClass


class CheckFailed(Exception):
    """Raised inside a checker to stop early with a classified failure (never escapes a checker)."""

    def __init__(self, failure: FailureClass, reason: str, **details: object) -> None:
        super().__init__(reason)
        self.failure = failure
        self.reason = reason
        self.details = details

    def result(self, latency_ms: float | None = None, **details: object) -> CheckResult:
        return CheckResult.down(self.failure, self.reason, latency_ms, **{**details, **self.details})


_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.EADDRNOTAVAIL, errno.ENETDOWN}
# OpenSSL verify codes meaning "issuer not trusted": self-signed, or signed by an unknown CA.
_UNTRUSTED = {18, 19, 20, 21}
_RESET = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps: causes, contexts, urllib3 reasons, exception args."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        cur = todo.pop(0)
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        nested = [getattr(cur, "reason", None), cur.__cause__, cur.__context__, *getattr(cur, "args", ())]
        todo.extend(x for x in nested if isinstance(x, BaseException))


def find(
    exc: BaseException, kind: type[BaseException] | tuple[type[BaseException], ...]
) -> BaseException | None:
    return next((e for e in chain(exc) if isinstance(e, kind)), None)


def describe_os_error(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def tls_hint(exc: BaseException) -> str:
    """OpenSSL's reason, plus what it usually means for someone setting up a monitor."""
    reason = str(getattr(exc, "reason", None) or exc)
    if "WRONG_VERSION_NUMBER" in reason or "UNKNOWN_PROTOCOL" in reason:
        return f"{reason} (the port does not speak TLS: a plain-text port?)"
    if isinstance(exc, ssl.SSLEOFError) or "CERTIFICATE_REQUIRED" in reason:
        return f"{reason} (the server hung up during TLS: does it require a client certificate?)"
    return reason


def classify(exc: BaseException, target: str) -> tuple[FailureClass, str]:
    """The failure class and reason for a transport-level exception while talking to `target`."""
    if (cert := find(exc, ssl.SSLCertVerificationError)) is not None:
        msg = getattr(cert, "verify_message", None) or str(cert)
        if getattr(cert, "verify_code", None) in _UNTRUSTED:
            msg += " (a private CA? trust it with caSecretRef, or set verify: false)"
        return FailureClass.CERTIFICATE, f"certificate of {target} rejected: {msg}"
    if (gai := find(exc, socket.gaierror)) is not None:
        return FailureClass.DNS, f"cannot resolve {target}: {describe_os_error(gai)}"
    if find(exc, ConnectionRefusedError) is not None:
        return (
            FailureClass.REFUSED,
            f"connection to {target} refused (nothing listening, or a firewall rejects it)",
        )
    if find(exc, http.client.RemoteDisconnected) is not None:
        return FailureClass.RESET, f"{target} closed the connection without answering"
    if find(exc, _RESET) is not None:
        return FailureClass.RESET, f"connection to {target} was reset by the peer"
    if find(exc, (TimeoutError, socket.timeout)) is not None:
        return FailureClass.TIMEOUT, f"{target} did not answer in time"
    if (tls := find(exc, ssl.SSLError)) is not None:
        return FailureClass.TLS, f"TLS handshake with {target} failed: {tls_hint(tls)}"
    if find(exc, PermissionError) is not None:
        return FailureClass.PERMISSION, f"not permitted to reach {target}: {exc}"
    for e in chain(exc):
        if isinstance(e, OSError) and e.errno in _UNREACHABLE:
            return FailureClass.UNREACHABLE, f"{target} is unreachable: {describe_os_error(e)}"
    for e in chain(exc):
        if isinstance(e, OSError) and e.errno is not None:
            return FailureClass.UNREACHABLE, f"cannot reach {target}: {describe_os_error(e)}"
    return FailureClass.ERROR, f"{type(exc).__name__} talking to {target}: {exc}"
