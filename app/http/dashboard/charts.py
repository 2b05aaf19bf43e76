"""SVG drawn by the server from rollup buckets: the 24 h strip, the status history, the latency chart.

Pure functions from counts to markup (no database, no clock), so they are tested as tables.
Every mark carries a `<title>` (read by browsers and screen readers without script) and a
`data-tip` that `dashboard.js` shows as a tooltip on hover. Colours come from CSS classes,
so both themes apply; text is escaped even though it is all numbers and times of ours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from markupsafe import Markup, escape

from app.store.rollups import Counts
from app.uptime.windows import STEP, floor


@dataclass(frozen=True, slots=True)
class Point:
    """Rollup sums over [start, end)."""

    start: datetime
    end: datetime
    counts: Counts

    @property
    def checks(self) -> int:
        return self.counts.up + self.counts.down + self.counts.maintenance

    @property
    def ratio(self) -> float | None:
        counted = self.counts.up + self.counts.down
        return self.counts.up / counted if counted else None

    @property
    def latency_ms(self) -> float | None:
        c = self.counts
        return c.latency_sum / c.latency_count if c.latency_count else None


@dataclass(frozen=True, slots=True)
class Range:
    """A chart range: its length, the rollup resolution read and how many buckets make a point."""

    name: str
    length: timedelta
    resolution: str
    group: int


RANGES: dict[str, Range] = {
    r.name: r
    for r in (
        Range("1h", timedelta(hours=1), "m", 1),  # 60 points of a minute
        Range("24h", timedelta(hours=24), "m", 15),  # 96 points of 15 minutes
        Range("7d", timedelta(days=7), "h", 1),  # 168 points of an hour
        Range("30d", timedelta(days=30), "h", 6),  # 120 points of 6 hours
    )
}


def span_of(rng: Range, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the buckets a range reads: it ends with the bucket `now` falls in."""
    end = floor(now, rng.resolution) + STEP[rng.resolution]
    return end - rng.length, end


def points(buckets: Mapping[datetime, Counts], start: datetime, end: datetime, step: timedelta,
           group: int) -> list[Point]:  # fmt: skip
    """Buckets summed `group` at a time from start to end; a point with no bucket has zero counts."""
    out = []
    width = step * group
    t = start
    while t < end:
        up = down = mnt = lcnt = 0
        lsum = 0.0
        for i in range(group):
            c = buckets.get(t + step * i)
            if c is not None:
                up, down, mnt = up + c.up, down + c.down, mnt + c.maintenance
                lsum, lcnt = lsum + c.latency_sum, lcnt + c.latency_count
        out.append(Point(t, min(t + width, end), Counts(up, down, mnt, lsum, lcnt)))
        t += width
    return out


EMPTY = Counts()


def status_class(c: Counts) -> str:
    """none: no check; up/down: all one way; mixed: some of each; maint: only maintenance."""
    if c.up + c.down == 0:
        return "maint" if c.maintenance else "none"
    if c.down == 0:
        return "up"
    return "down" if c.up == 0 else "mixed"


def _clock(t: datetime, long: bool) -> str:
    t = t.astimezone(UTC)
    return t.strftime("%m-%d %H:%M") if long else t.strftime("%H:%M")


def describe(p: Point, long: bool = True) -> str:
    """What one point says in words: its span, uptime, checks and mean latency."""
    span = f"{_clock(p.start, long)}–{_clock(p.end, long)} UTC"
    if p.checks == 0:
        return f"{span}: no checks"
    parts = []
    ratio = p.ratio
    if ratio is not None:
        parts.append(f"{math.floor(ratio * 1000) / 10:g} % up")
    if p.counts.down:
        parts.append(f"{p.counts.down} down")
    if p.counts.maintenance:
        parts.append(f"{p.counts.maintenance} in maintenance")
    parts.append(f"{p.checks} check{'s' if p.checks != 1 else ''}")
    latency = p.latency_ms
    if latency is not None:
        parts.append(f"{latency:.0f} ms avg" if latency >= 10 else f"{latency:.1f} ms avg")
    return f"{span}: " + ", ".join(parts)


def strip(cells: Sequence[Counts | None], labels: Sequence[str], label: str) -> Markup:
    """The small status strip of a monitor list row: one cell per bucket, 6 px each.

    `labels` name the buckets ("14:00"); a list page draws a hundred strips, so each cell
    says only its time, uptime and number of checks.
    """
    out = [f'<svg class="strip" viewBox="0 0 {len(cells) * 6} 18" role="img" aria-label="{escape(label)}">']
    for i, c in enumerate(cells):
        c = c or EMPTY
        counted = c.up + c.down
        what = f"{math.floor(c.up / counted * 1000) / 10:g} % up of {counted}" if counted else "no checks"
        if c.maintenance:
            what += f", {c.maintenance} in maintenance"
        out.append(f'<rect class="b-{status_class(c)}" x="{i * 6}" width="5" height="18">'
                   f"<title>{labels[i]} UTC: {what}</title></rect>")  # fmt: skip
    out.append("</svg>")
    return Markup("".join(out))


# The chart's frame, in SVG user units (it scales to its box).
W, H, LEFT, RIGHT, TOP, BOTTOM = 720, 200, 52, 8, 10, 24
HISTORY_H = 26


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is at least `value` (axes read in round numbers)."""
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        if m * exp >= value:
            return float(m * exp)
    return float(10 * exp)


def _x_labels(pts: Sequence[Point], width: float, long: bool) -> list[str]:
    if not pts:
        return []
    out = []
    n = 5
    for k in range(n):
        i = round(k * (len(pts) - 1) / (n - 1))
        x = LEFT + (i + 0.5) * width
        anchor = "start" if k == 0 else "end" if k == n - 1 else "middle"
        text = _clock(pts[i].start, long)
        out.append(f'<text x="{x:.1f}" y="{H - 6}" text-anchor="{anchor}">{escape(text)}</text>')
    return out


def latency_chart(pts: Sequence[Point], label: str, long: bool) -> Markup:
    """Mean latency per point as a line (gaps where nothing was measured), with hover targets."""
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    width = plot_w / max(len(pts), 1)
    values = [p.latency_ms for p in pts]
    top = nice_ceiling(max((v for v in values if v is not None), default=0.0))
    parts = [f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="{escape(label)}">']
    for frac in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - frac)
        cls = "axis" if frac == 0 else "grid-line"
        parts.append(f'<line class="{cls}" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        value = top * frac
        text = f"{value:g} ms"
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(text)}</text>')
    path, pen_down = [], False
    for i, v in enumerate(values):
        if v is None:
            pen_down = False
            continue
        x = LEFT + (i + 0.5) * width
        y = TOP + plot_h * (1 - min(v / top, 1.0))
        path.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
    if path:
        parts.append(f'<path class="line" d="{" ".join(path)}"/>')
    for i, v in enumerate(values):  # a point with no neighbour draws no line: mark it
        alone = (i == 0 or values[i - 1] is None) and (i == len(values) - 1 or values[i + 1] is None)
        if v is not None and alone:
            x, y = LEFT + (i + 0.5) * width, TOP + plot_h * (1 - min(v / top, 1.0))
            parts.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
    parts += _x_labels(pts, width, long)
    for i, p in enumerate(pts):
        tip = escape(describe(p, long))
        parts.append(f'<rect class="hit" x="{LEFT + i * width:.1f}" y="{TOP}" width="{width:.2f}" '
                     f'height="{plot_h}" data-tip="{tip}"><title>{tip}</title></rect>')  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))


def history_bar(pts: Sequence[Point], label: str, long: bool) -> Markup:
    """Status per point as coloured cells aligned with the latency chart above it."""
    plot_w = W - LEFT - RIGHT
    width = plot_w / max(len(pts), 1)
    parts = [f'<svg viewBox="0 0 {W} {HISTORY_H}" role="img" aria-label="{escape(label)}">']
    for i, p in enumerate(pts):
        tip = escape(describe(p, long))
        parts.append(f'<rect class="s-{status_class(p.counts)}" x="{LEFT + i * width:.1f}" y="2" '
                     f'width="{max(width - 1, 0.5):.2f}" height="{HISTORY_H - 4}" data-tip="{tip}">'
                     f"<title>{tip}</title></rect>")  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))
