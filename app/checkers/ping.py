"""ICMP echo checks through pythonping: packet loss and round-trip times.

pythonping needs a raw socket, i.e. root or CAP_NET_RAW; without it the check says so
instead of reporting the target as down. It speaks IPv4 only, so names are resolved to
an IPv4 address first, within the check's deadline.
"""

from __future__ import annotations

import socket
import statistics
from typing import Any

import pythonping

from app.checkers.base import CheckContext, register
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed, classify
from app.checkers.net import resolve
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType, PingSpec

NO_RAW_SOCKET = (
    "sending ICMP needs a raw socket: run KubeKuma as root or add NET_RAW to the container's "
    "securityContext.capabilities"
)


def _ipv4(host: str, deadline: Deadline) -> str:
    for family, _, _, addr in resolve(host, 0, deadline, socket.SOCK_DGRAM):
        if family == socket.AF_INET:
            return str(addr[0])
    raise CheckFailed(FailureClass.CONFIG, f"{host} has no IPv4 address, and ping checks speak IPv4 only")


@register(MonitorType.PING)
def check_ping(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: PingSpec = spec.ping  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    try:
        address = _ipv4(s.host, deadline)
        # Each echo may wait its share of what is left, so a silent host ends the check on time.
        per_echo = deadline.remaining() / s.count
        replies = pythonping.ping(address, timeout=per_echo, count=s.count, size=s.packetSize)
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms())
    except PermissionError:
        return CheckResult.down(FailureClass.PERMISSION, NO_RAW_SOCKET, deadline.elapsed_ms())
    except OSError as exc:
        failure, reason = classify(exc, s.host)
        return CheckResult.down(failure, reason, deadline.elapsed_ms())
    # pythonping counts a lost echo at its timeout in its averages; use answered ones only.
    rtts = [r.time_elapsed * 1000 for r in replies if r.success]
    loss = round(100 * (1 - len(rtts) / s.count), 1)
    details: dict[str, Any] = {
        "address": address,
        "sent": s.count,
        "received": len(rtts),
        "lossPercent": loss,
    }
    if rtts:
        details.update(
            rttMinMs=round(min(rtts), 3),
            rttAvgMs=round(statistics.fmean(rtts), 3),
            rttMaxMs=round(max(rtts), 3),
        )
    what = f"{s.host} ({address})" if address != s.host else s.host
    if not rtts:
        reason = f"no reply from {what} to {s.count} ping{'s' if s.count > 1 else ''} of {s.packetSize} bytes"
        return CheckResult.down(FailureClass.UNREACHABLE, reason, None, **details)
    latency = details["rttAvgMs"]
    if loss > s.maxLossPercent:
        reason = f"{loss:g}% packet loss to {what} (allowed {s.maxLossPercent:g}%)"
        return CheckResult.down(FailureClass.UNREACHABLE, reason, latency, **details)
    return CheckResult.up(latency, f"{len(rtts)}/{s.count} replies, avg {latency:.2f} ms", **details)
