"""Uptime windows by name, the sums a window is made of, and how an uptime is written.

Percentages are truncated, never rounded up: a month with 30 seconds of downtime is
99.99 %, not 100 %, because a status page that says 100 % after an outage is wrong.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import NamedTuple

# The windows the API, badges and metrics offer by name.
WINDOWS: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
_LIMITS = {"m": (1, 2880), "h": (1, 8760), "d": (1, 730)}
# Exactly the windows `parse_window` takes (ASCII digits, no leading zero, within _LIMITS); the
# OpenAPI document publishes it, so a client can tell a good window from a bad one beforehand.
WINDOW_PATTERN = (
    "^(([1-9][0-9]{0,2}|1[0-9]{3}|2[0-7][0-9]{2}|28[0-7][0-9]|2880)m"
    "|([1-9][0-9]{0,2}|[1-7][0-9]{3}|8[0-6][0-9]{2}|87[0-5][0-9]|8760)h"
    "|([1-9][0-9]?|[1-6][0-9]{2}|7[0-2][0-9]|730)d)$"
)
_WINDOW = re.compile(WINDOW_PATTERN)


def parse_window(text: str) -> timedelta:
    """'24h', '7d', '90m' -> a timedelta; ValueError naming what is accepted otherwise."""
    if not _WINDOW.search(text):
        limits = ", ".join(f"{lo}{u} to {hi}{u}" for u, (lo, hi) in _LIMITS.items())
        if re.fullmatch(r"[0-9]{1,6}[mhd]", text):
            raise ValueError(f"{text!r} is out of range; windows go from {limits}")
        raise ValueError(f"{text[:40]!r} is not a window; use a number with m, h or d, e.g. 24h or 7d")
    n, unit = int(text.rstrip("\n")[:-1]), text.rstrip("\n")[-1]
    return {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}[unit]


class Totals(NamedTuple):
    """Sums of rollup buckets. Maintenance is neither up nor down: it leaves the ratio alone.

    A tuple, not a dataclass: a status page makes thousands of these per build.
    """

    up: int = 0
    down: int = 0
    maintenance: int = 0
    latency_sum: float = 0.0
    latency_count: int = 0

    @property
    def checks(self) -> int:
        return self.up + self.down + self.maintenance

    @property
    def ratio(self) -> float | None:
        counted = self.up + self.down
        return self.up / counted if counted else None

    @property
    def avg_latency_ms(self) -> float | None:
        return self.latency_sum / self.latency_count if self.latency_count else None

    def plus(self, other: tuple[int, int, int, float, int]) -> Totals:
        return Totals(
            self.up + other[0], self.down + other[1], self.maintenance + other[2],
            self.latency_sum + other[3], self.latency_count + other[4],
        )  # fmt: skip


def format_percent(ratio: float | None, decimals: int = 2) -> str | None:
    """0.99987 -> '99.98'; 1.0 -> '100'; None (no data) -> None. Truncated, never rounded up."""
    if ratio is None:
        return None
    if ratio >= 1.0:
        return "100"
    scale = 10**decimals
    # The small epsilon keeps 0.9995 (stored as 0.99949999…) from printing as 99.94.
    value = math.floor(ratio * 100 * scale + 1e-7) / scale
    return f"{value:.{decimals}f}"
