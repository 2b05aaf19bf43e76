"""A monitor's live status, as `kubectl get monitors` shows it, from what the workers recorded.

Only `state` changing makes a write urgent; the other fields ride along with it or with
the periodic refresh. Uptime comes from the rollups (24 hourly and 30 daily buckets), so
computing it costs the same whatever the history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.store import StateView, Store

WINDOWS = (("24h", timedelta(hours=24), "h"), ("30d", timedelta(days=30), "d"))


def rfc3339(t: datetime | None) -> str | None:
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def live_fields(view: StateView) -> dict[str, Any]:
    """Status fields from a monitor's recorded state; None clears a field."""
    cert = (view.details or {}).get("cert") or {}
    return {
        "state": view.state,
        "reason": (view.reason or "")[:300] or None,
        "lastCheckTime": rfc3339(view.last_check_at),
        "lastTransitionTime": rfc3339(view.since),
        "latencyMs": round(view.latency_ms) if view.latency_ms is not None else None,
        "certificateExpiresAt": cert.get("expiresAt") if isinstance(cert, dict) else None,
    }


def percent(ratio: float | None) -> str | None:
    if ratio is None:
        return None
    # Never show 100.00 for a monitor that was down at all, nor 0.00 for one that was ever up.
    value = ratio * 100
    text = f"{value:.2f}"
    if text == "100.00" and ratio < 1:
        return "99.99"
    if text == "0.00" and ratio > 0:
        return "0.01"
    return text


def uptime_fields(store: Store, uid: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    out: dict[str, Any] = {}
    for label, span, resolution in WINDOWS:
        ratio = store.checks.uptime(uid, now - span, resolution)["ratio"]
        out[label] = percent(ratio)
    return out
