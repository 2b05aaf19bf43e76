"""Conditions in the Kubernetes convention, kept stable so status is only written on change.

`object_status` decides Valid, Reconciled and Ready for one object the same way in
folder mode (status kept in the resource cache) and Kubernetes mode (status patched onto
the object): schema problems first, then references that point at nothing, then whether
the object is active.
"""

from __future__ import annotations

import secrets
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


def merge_by_type(theirs: list[dict[str, Any]], ours: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`conditions` is a map list keyed by type: ours replace those of the same type, the others stay."""
    mine = {c["type"]: c for c in ours}
    out = [mine.pop(c.get("type"), c) for c in theirs or []]
    return out + [c for c in ours if c["type"] in mine]


def merge_conditions(old: list[dict[str, Any]], new: list[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    """Keep lastTransitionTime when a condition's status did not change."""
    before = {c.get("type"): c for c in old or []}
    out = []
    for c in new:
        prev = before.get(c["type"])
        same = prev is not None and prev.get("status") == c["status"]
        out.append({**c, "lastTransitionTime": prev.get("lastTransitionTime", now) if same and prev else now})
    return out


def reconciled(
    generation: int, problems: list[str], missing: list[str], has_last_valid: bool, error: str | None
) -> dict[str, Any]:
    """Reconciled: the outcome of the last reconcile of this generation (the cache write and what runs)."""
    if error:
        return condition("Reconciled", False, "CacheWriteFailed", error, generation)
    if problems:
        runs = "the last valid spec runs" if has_last_valid else "nothing runs"
        return condition(
            "Reconciled", True, "Cached", f"generation {generation} rejected; {runs}", generation
        )
    if missing:
        message = f"generation {generation} cached; waiting for its references"
        return condition("Reconciled", True, "Cached", message, generation)
    return condition("Reconciled", True, "Cached", f"generation {generation} cached", generation)


def resource_status(
    old: dict[str, Any],
    valid: bool,
    problems: list[str],
    generation: int,
    ready: bool,
    ready_reason: str,
    ready_message: str = "",
    valid_reason: str | None = None,
    reconcile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    valid_reason = valid_reason or ("SpecValid" if valid else "InvalidSpec")
    conds = [
        condition("Valid", valid, valid_reason, "; ".join(problems), generation),
        reconcile or condition("Reconciled", True, "Cached", "", generation),
        condition("Ready", ready, ready_reason, ready_message, generation),
    ]
    status = {k: v for k, v in (old or {}).items() if k not in ("conditions", "observedGeneration")}
    status["observedGeneration"] = generation
    status["conditions"] = merge_conditions((old or {}).get("conditions", []), conds, now_iso())
    return status


def object_status(
    old: dict[str, Any],
    kind: str,
    spec: dict[str, Any] | None,
    generation: int,
    problems: list[str],
    missing: list[str],
    has_last_valid: bool,
    warnings: list[str] | None = None,
    cache_error: str | None = None,
) -> dict[str, Any]:
    """Status of one object from its schema problems, its missing references and its cached spec.

    `warnings` (literal credentials, app/resources/credentials.py) leave the object valid and
    are the message of its Valid condition. `cache_error` says the resource cache could not be
    written (Reconciled=False).
    """
    rec = reconciled(generation, problems, missing, has_last_valid, cache_error)
    if problems:
        ready = has_last_valid
        reason = "LastValidSpec" if ready else "Invalid"
        message = "running the last valid spec" if ready else "not running: fix the spec"
        return resource_status(old, False, problems, generation, ready, reason, message, reconcile=rec)
    if missing:
        message = "waiting for " + "; ".join(missing)
        return resource_status(
            old,
            False,
            missing,
            generation,
            False,
            "ReferenceNotFound",
            message,
            valid_reason="ReferenceNotFound",
            reconcile=rec,
        )
    notes = [f"warning: {w}" for w in warnings or []]
    if kind == "Monitor" and spec is not None and spec.get("enabled") is False:
        return resource_status(
            old, True, notes, generation, False, "Disabled", "spec.enabled is false", reconcile=rec
        )
    return resource_status(old, True, notes, generation, True, "Active", reconcile=rec)


def with_push_token(status: dict[str, Any], kind: str, spec: dict[str, Any] | None) -> dict[str, Any]:
    """A push monitor without a token Secret gets a generated token in its cached status (kept once made)."""
    spec = spec or {}
    if kind != "Monitor" or spec.get("type") != "push":
        return status
    if (spec.get("push") or {}).get("tokenSecretRef"):
        status.pop("pushToken", None)
    elif not status.get("pushToken"):
        status["pushToken"] = secrets.token_urlsafe(24)  # shown to its owner, as Uptime Kuma does
    return status
