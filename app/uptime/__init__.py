"""Uptime from rollups, as pure functions: window plans, daily bars, banners and SLA text.

Nothing here reads the database or the clock: the web layer asks `plan` which rollup
buckets cover a window, has the store sum them, and hands the sums back here to be
turned into ratios, bars and words.
"""

from app.uptime.sla import WINDOWS, Totals, format_percent, parse_window
from app.uptime.summary import DayBar, Overall, day_bars, history_days, overall_status
from app.uptime.windows import KEEP, Span, plan

__all__ = [
    "KEEP", "WINDOWS", "DayBar", "Overall", "Span", "Totals", "day_bars", "format_percent", "history_days",
    "overall_status",
    "parse_window", "plan",
]  # fmt: skip
