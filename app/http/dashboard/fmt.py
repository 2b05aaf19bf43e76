"""How the dashboard writes times, durations, latencies and ratios: pure functions, Jinja filters.

`redact` masks literal credentials (a URL's user:password, a token in a query) in every
target, reason and error a page shows, as the API does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.config import redact
from app.uptime import format_percent


def when(t: datetime | str | None) -> str:
    """2024-05-01 12:03 UTC; '—' for never."""
    if t is None or t == "":
        return "—"
    if isinstance(t, str):
        try:
            t = datetime.fromisoformat(t.replace("Z", "+00:00"))
        except ValueError:
            return "—"
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: float | None) -> str:
    """A duration as a person says it: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    if seconds is None:
        return "—"
    s = max(int(seconds), 0)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(s // 3600, 24)
    return f"{d} d {h} h" if h else f"{d} d"


def ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def percent(ratio: float | None) -> str:
    text = format_percent(ratio)
    return f"{text} %" if text is not None else "—"


def since(t: datetime | None, now: datetime) -> str:
    """'for 12 min (since 2024-05-01 12:03 UTC)'."""
    if t is None:
        return ""
    return f"for {duration((now - t).total_seconds())} (since {when(t)})"


FILTERS = {"when": when, "duration": duration, "ms": ms, "percent": percent, "redact": redact}
