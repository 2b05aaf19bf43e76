"""One module per monitor type behind `Checker`; `run_check` dispatches through the registry."""

from __future__ import annotations

import logging

# Importing a checker module registers it.
from app.checkers import (  # noqa: F401
    amqp,
    dns,
    group,
    grpc,
    http,
    kubernetes,
    mqtt,
    mysql,
    nats,
    ping,
    postgres,
    push,
    redis,
    smtp,
    steam,
    tcp,
    tls,
    websocket,
)
from app.checkers.base import REGISTRY, CheckContext, Checker
from app.model import CheckResult, FailureClass
from app.resources.credentials import redact, redact_value
from app.resources.monitor import MonitorSpec

log = logging.getLogger(__name__)


def run_check(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    """Run the checker of `spec.type`. A checker bug becomes a DOWN result, never a crash.

    Reasons and details leave here with URL credentials masked: they are stored in heartbeats,
    shown on the dashboard and the API, and logged with transitions.
    """
    checker = REGISTRY.get(spec.type)
    if checker is None:
        return CheckResult.down(FailureClass.CONFIG, f"no checker for type {spec.type.value}")
    try:
        result = checker(spec, ctx)
    except Exception as exc:  # a checker must never take the worker down
        log.exception("checker %s failed on %s/%s", spec.type.value, ctx.namespace, ctx.name)
        result = CheckResult.down(FailureClass.ERROR, f"internal error: {type(exc).__name__}: {exc}")
    result.reason = redact(result.reason)
    result.details = redact_value(result.details)
    return result


__all__ = ["CheckContext", "Checker", "run_check"]
