"""TLS checks: a handshake with host:port to watch the certificate itself.

For endpoints that are not HTTP (SMTP over TLS, LDAPS, a gRPC port) or where only the
certificate matters. Unlike the http checker, an expired or not yet valid certificate is
DOWN even with `verify: false`, because watching expiry is the reason this type exists;
`verify: false` only skips the chain and hostname checks (self-signed, private CAs).
"""

from __future__ import annotations

from typing import Any

from app.checkers import certs, tlsclient
from app.checkers.base import CheckContext, register
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed
from app.checkers.net import connect_tcp
from app.checkers.values import optional_secret
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType, TlsSpec


@register(MonitorType.TLS)
def check_tls(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: TlsSpec = spec.tls  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    target = f"{s.host}:{s.port}"
    name = s.serverName or s.host
    details: dict[str, Any] = {}
    try:
        ca = optional_secret(s.caSecretRef, ctx, "caSecretRef")
        sock = connect_tcp(s.host, s.port, deadline)
        tls, info = tlsclient.start_tls(
            sock, s.host, s.port, s.serverName, s.verify, ca, deadline, s.warnDays, ctx
        )
        with tls:
            details.update(cert=info, protocol=tls.version(), cipher=(tls.cipher() or ("",))[0])
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms(), **details)
    latency = deadline.elapsed_ms()
    if not info:
        return CheckResult.down(FailureClass.TLS, f"{target} presented no certificate", latency, **details)
    if info["expired"] or info["notYetValid"]:
        reason = certs.problem(info, name) or "certificate not valid now"
        return CheckResult.down(FailureClass.CERTIFICATE, reason, latency, **details)
    days = info["daysLeft"]
    reason = f"certificate valid for {days} more day{'s' if days != 1 else ''} (until {info['expiresAt']})"
    if "warn" in info:
        reason = f"certificate expires in {days} day{'s' if days != 1 else ''} (warning at {info['warn']})"
    return CheckResult.up(latency, reason, **details)
