"""Conditions in the Kubernetes convention, kept stable so status is only written on change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def condition(type_: str, ok: bool, reason: str, message: str, generation: int) -> dict[str, Any]:
    return {
        "type": type_,
        "status": "True" if ok else "False",
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
    }


def merge_conditions(old: list[dict[str, Any]], new: list[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    """Keep lastTransitionTime when a condition's status did not change."""
    before = {c.get("type"): c for c in old or []}
    out = []
    for c in new:
        prev = before.get(c["type"])
        same = prev is not None and prev.get("status") == c["status"]
        out.append({**c, "lastTransitionTime": prev.get("lastTransitionTime", now) if same and prev else now})
    return out


def resource_status(
    old: dict[str, Any],
    valid: bool,
    problems: list[str],
    generation: int,
    ready: bool,
    ready_reason: str,
    ready_message: str = "",
) -> dict[str, Any]:
    conds = [
        condition("Valid", valid, "SpecValid" if valid else "InvalidSpec", "; ".join(problems), generation),
        condition("Reconciled", True, "Cached", "", generation),
        condition("Ready", ready, ready_reason, ready_message, generation),
    ]
    status = {k: v for k, v in (old or {}).items() if k not in ("conditions", "observedGeneration")}
    status["observedGeneration"] = generation
    status["conditions"] = merge_conditions((old or {}).get("conditions", []), conds, now_iso())
    return status
