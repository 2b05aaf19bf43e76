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
_WINDOW = re.compile(r"^([0-9]{1,4})(m|h|d)$")  # ASCII digits only: \d takes "２４"
_LIMITS = {"m": (1, 2880), "h": (1, 8760), "d": (1, 730)}


def parse_window(text: str) -> timedelta:
    """'24h', '7d', '90m' -> a timedelta; ValueError naming what is accepted otherwise."""
    m = _WINDOW.fullmatch(text)
    if not m:
        raise ValueError(f"{text!r} is not a window; use a number with m, h or d, e.g. 24h, 7d or 30d")
    n, unit = int(m.group(1)), m.group(2)
    lo, hi = _LIMITS[unit]
    if not lo <= n <= hi:
        raise ValueError(f"{text!r} is out of range; {unit} windows go from {lo}{unit} to {hi}{unit}")
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
