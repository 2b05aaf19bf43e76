"""Reads shared by the API, status pages, badges and metrics: uptime windows, day bars, certificates.

Glue between the pure window math (`app.uptime`) and the rollup sums (`store.rollups`):
every function here costs the number of monitors times the buckets of a window, never
the number of heartbeats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from app.store import Store
from app.store.rollups import Counts
from app.uptime import DayBar, Totals, day_bars, format_percent, plan
from app.uptime.windows import DAY, floor


def _totals(c: Counts | None) -> Totals:
    return Totals(*c) if c is not None else Totals()


def uptime_windows(
    store: Store, uids: Sequence[str] | None, windows: Mapping[str, timedelta], now: datetime
) -> dict[str, dict[str, Totals]]:
    """Totals per window name and monitor uid, in one query; `uids=None` reads every monitor."""
    plans = {name: plan(now - length, now) for name, length in windows.items()}
    sums = store.rollups.windows(uids, plans)
    keys = list(uids) if uids is not None else sorted({u for per in sums.values() for u in per})
    return {name: {uid: _totals(sums[name].get(uid)) for uid in keys} for name in windows}


def bars(store: Store, uids: Sequence[str], count: int, now: datetime) -> dict[str, list[DayBar]]:
    """`count` daily bars per monitor ending today (UTC), from day rollups only.

    One more day is read before the first bar: checks on it mean the monitor's history
    began before the bars, so none of them is "before" it (see `app.uptime.summary`).
    """
    first = floor(now, "d") - count * DAY
    rows = store.rollups.days(uids, first, floor(now, "d") + DAY)
    return {uid: day_bars({d: Totals(*c) for d, c in rows.get(uid, {}).items()}, count, now) for uid in uids}


def uptime_json(t: Totals) -> dict[str, Any]:
    return {
        "uptime": t.ratio,
        "uptimePercent": format_percent(t.ratio),
        "avgLatencyMs": t.avg_latency_ms,
        "up": t.up,
        "down": t.down,
        "maintenance": t.maintenance,
        "checks": t.checks,
    }


def certificate(details: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """The certificate the last check saw (its `details["cert"]`), with days left as of `now`."""
    cert = (details or {}).get("cert")
    if not isinstance(cert, dict) or not cert.get("expiresAt"):
        return None
    out = {
        k: cert[k]
        for k in ("subject", "issuer", "expiresAt", "notBefore", "names", "selfSigned", "hostnameMatch")
        if k in cert
    }
    try:
        expires = datetime.fromisoformat(str(cert["expiresAt"]).replace("Z", "+00:00"))
    except ValueError:
        return out
    left = (expires - now).total_seconds()
    out["daysLeft"] = int(left // 86400)
    out["expired"] = left <= 0
    return out
