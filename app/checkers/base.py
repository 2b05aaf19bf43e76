"""The checker interface: one module per monitor type, each registered by its type name."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import requests

from app.model import CheckResult
from app.resources.monitor import MonitorSpec, MonitorType


class Secrets(Protocol):
    """Resolves a SecretKeyRef in the monitor's namespace (app.resources.loader.SecretStore fits)."""

    def require(self, ref: Any, namespace: str) -> str: ...

    def get(self, ref: Any, namespace: str) -> str | None: ...


@dataclass(slots=True)
class CheckContext:
    """What a checker may use besides the spec. Everything with I/O is injected."""

    uid: str
    name: str
    namespace: str
    secrets: Secrets
    session: requests.Session | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    kube: Any = None  # a kubernetes ApiClient, for the kubernetes checker
    store: Any = None  # read access for the push checker (last push time)


class Checker(Protocol):
    def __call__(self, spec: MonitorSpec, ctx: CheckContext) -> CheckResult: ...


REGISTRY: dict[MonitorType, Checker] = {}


def register(kind: MonitorType) -> Callable[[Checker], Checker]:
    def deco(fn: Checker) -> Checker:
        REGISTRY[kind] = fn
        return fn

    return deco


def elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
