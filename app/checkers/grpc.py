"""gRPC checks: the standard `grpc.health.v1.Health/Check`, over plain text or verified TLS.

The call's own deadline bounds everything (name resolution, connect, handshake, answer);
retries and waiting for readiness are off, so a refused port fails at once. gRPC folds
transport errors into UNAVAILABLE with a text, which is read to tell refused, TLS and DNS
failures apart.
"""

from __future__ import annotations

from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from app.checkers.base import CheckContext, register
from app.checkers.deadline import Deadline
from app.checkers.errors import CheckFailed
from app.checkers.service import has
from app.checkers.values import optional_secret
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType
from app.resources.services import GrpcSpec

_OPTIONS = [("grpc.enable_retries", 0), ("grpc.initial_reconnect_backoff_ms", 100)]
_SERVING = health_pb2.HealthCheckResponse.SERVING
_STATUS_NAME = health_pb2.HealthCheckResponse.ServingStatus.Name


def classify_rpc(code: grpc.StatusCode, details: str, target: str) -> tuple[FailureClass, str]:
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return FailureClass.TIMEOUT, f"{target} did not answer the health check in time"
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return FailureClass.PROTOCOL, f"{target} does not implement grpc.health.v1.Health"
    if code == grpc.StatusCode.NOT_FOUND:
        return FailureClass.MISMATCH, f"{target} knows no such service: {details}"
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return FailureClass.AUTH, f"{target} wants credentials: {details}"
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return FailureClass.PERMISSION, f"{target}: {details}"
    if code == grpc.StatusCode.UNAVAILABLE:
        if has(details, "connection refused"):
            return FailureClass.REFUSED, f"connection to {target} refused"
        if has(details, "certificate", "verify"):
            return FailureClass.CERTIFICATE, f"certificate of {target} rejected: {details}"
        if has(details, "ssl", "tls", "handshake"):
            return FailureClass.TLS, f"TLS with {target} failed: {details}"
        if has(details, "dns resolution", "name resolution", "not resolve"):
            return FailureClass.DNS, f"cannot resolve {target}: {details}"
        if has(details, "reset", "socket closed", "connection closed"):
            return FailureClass.RESET, f"{target} closed the connection: {details}"
        return FailureClass.UNREACHABLE, f"{target} is unavailable: {details}"
    return FailureClass.PROTOCOL, f"health check on {target} failed: {code.name} {details}"


def channel(s: GrpcSpec, ctx: CheckContext) -> grpc.Channel:
    target = f"{s.host}:{s.port}"
    if not s.tls:
        return grpc.insecure_channel(target, options=_OPTIONS)
    ca = optional_secret(s.caSecretRef, ctx, "caSecretRef")
    creds = grpc.ssl_channel_credentials(root_certificates=ca.encode() if ca else None)
    options: list[tuple[str, Any]] = list(_OPTIONS)
    if s.serverName:
        options.append(("grpc.ssl_target_name_override", s.serverName))
    return grpc.secure_channel(target, creds, options=options)


@register(MonitorType.GRPC)
def check_grpc(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    s: GrpcSpec = spec.grpc  # type: ignore[assignment]
    deadline = Deadline(spec.timeout)
    target = f"{s.host}:{s.port}"
    what = f"service {s.service!r}" if s.service else "the server"
    try:
        ch = channel(s, ctx)
        try:
            stub = health_pb2_grpc.HealthStub(ch)
            answer = stub.Check(
                health_pb2.HealthCheckRequest(service=s.service), timeout=deadline.remaining()
            )
        except grpc.RpcError as exc:
            code, details = exc.code(), exc.details() or ""  # type: ignore[attr-defined]
            raise CheckFailed(*classify_rpc(code, details, target), grpcCode=code.name) from None
        finally:
            ch.close()
        status = _STATUS_NAME(answer.status)
        if answer.status != _SERVING:
            raise CheckFailed(FailureClass.MISMATCH, f"{what} on {target} is {status}", status=status)
    except CheckFailed as failed:
        return failed.result(deadline.elapsed_ms())
    return CheckResult.up(deadline.elapsed_ms(), f"{what} on {target} is SERVING", status=status)
