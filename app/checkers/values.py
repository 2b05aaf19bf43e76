"""Values a checker takes from Secrets, turned into CONFIG failures when they are missing.

A missing Secret is the operator's to fix, not the target's fault, so it must read as a
configuration problem and not as an outage of the monitored service.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.checkers.base import CheckContext
from app.checkers.errors import CheckFailed
from app.model import FailureClass
from app.resources.common import NameValue


def secret(ref: Any, ctx: CheckContext, what: str) -> str:
    """The value of a SecretKeyRef in the monitor's namespace; CheckFailed(CONFIG) if absent."""
    try:
        return ctx.secrets.require(ref, ctx.namespace)
    except Exception as exc:
        raise CheckFailed(FailureClass.CONFIG, f"{what}: {exc}") from None


def optional_secret(ref: Any, ctx: CheckContext, what: str) -> str | None:
    return None if ref is None else secret(ref, ctx, what)


def pairs(items: Iterable[NameValue], ctx: CheckContext, what: str) -> list[tuple[str, str]]:
    """(name, value) pairs with every `valueFrom` resolved."""
    out = []
    for item in items:
        if item.valueFrom is not None:
            value = secret(item.valueFrom.secretKeyRef, ctx, f"{what} {item.name}")
        else:
            value = item.value or ""
        out.append((item.name, value))
    return out
