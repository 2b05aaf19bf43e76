"""Maintenance lookup: what "is this monitor in a window?" costs per check for an old window.

Every check of every monitor asks it. For a daily and an hourly window that started ten
years ago, in Europe/Berlin (so the figures cross daylight-saving changes), it measures:

1. per check: `WindowView.active(now)` with `now` advancing 7 s a call over simulated days,
   so the span recomputed at each occurrence boundary is part of the figure (p50, p99, mean);
2. first lookup after a cache revision: a fresh `WindowView` (parse + first span);
3. for comparison, what the former lookup did on every check: expand the rule from the
   window's start to now (`rrule.between` from a naive dtstart).

Target: p99 < 50 µs per check, whatever the window's age. Pure CPU, no services.
Run alone: `python -m bench.maintenance [--quick]`. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil.rrule import rrulestr

from app.alerting.maintenance import WindowView
from app.resources.kinds import MaintenanceWindowSpec
from bench.common import load_average, percentile, save, say, table

TARGET_US = 50.0
RULES = {"daily": "FREQ=DAILY", "hourly": "FREQ=HOURLY"}


def _spec(rule: str, now: datetime) -> MaintenanceWindowSpec:
    start = (
        (now - timedelta(days=3653)).astimezone(UTC).replace(tzinfo=None, minute=15, second=0, microsecond=0)
    )
    return MaintenanceWindowSpec.model_validate(
        {"start": start.isoformat(), "duration": "20m", "timezone": "Europe/Berlin", "rrule": rule}
    )


def per_check(spec: MaintenanceWindowSpec, now: datetime, calls: int) -> list[float]:
    view = WindowView("w", "bench", "old", spec)
    view.active(now)  # the first lookup is measured on its own
    out = []
    for i in range(calls):
        t = now + timedelta(seconds=7 * i)
        t0 = time.perf_counter()
        view.active(t)
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def first_lookup(spec: MaintenanceWindowSpec, now: datetime, rounds: int) -> list[float]:
    out = []
    for i in range(rounds):
        t0 = time.perf_counter()
        WindowView("w", "bench", "old", spec).active(now + timedelta(minutes=i))
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def former_lookup(spec: MaintenanceWindowSpec, now: datetime, rounds: int) -> list[float]:
    """The lookup before the rebased rule: expand from the window's start on every check."""
    assert spec.rrule
    rule = rrulestr(spec.rrule, dtstart=spec.start.replace(tzinfo=None))
    out = []
    for i in range(rounds):
        t = (now + timedelta(minutes=i)).replace(tzinfo=None)
        t0 = time.perf_counter()
        rule.between(t - timedelta(hours=4), t + timedelta(hours=3), inc=True)
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def main(quick: bool = False) -> dict[str, Any]:
    calls, rounds, former = (20_000, 50, 3) if quick else (200_000, 300, 10)
    say(f"== maintenance: lookup cost per check for a window started ten years ago (load {load_average()})")
    now = datetime.now(UTC)
    rows, out = [], {}
    for name, rule in RULES.items():
        spec = _spec(rule, now)
        checks = per_check(spec, now, calls)
        first = first_lookup(spec, now, rounds)
        old = former_lookup(spec, now, former)
        fig = {
            "check_p50_us": percentile(checks, 50), "check_p99_us": percentile(checks, 99),
            "check_mean_us": sum(checks) / len(checks), "first_p50_us": percentile(first, 50),
            "former_p50_us": percentile(old, 50), "simulated_days": calls * 7 / 86400,
        }  # fmt: skip
        out[name] = fig
        rows.append((f"{name} (since {spec.start.date()})", fig["check_p50_us"], fig["check_p99_us"],
                     fig["check_mean_us"], fig["first_p50_us"], fig["former_p50_us"] / 1000))  # fmt: skip
    say(table(rows, ["window, Europe/Berlin", "per check p50 µs", "p99 µs", "mean µs",
                     "first lookup µs", "former per check ms"]))  # fmt: skip
    worst = max(f["check_p99_us"] for f in out.values())
    verdict = "meets" if worst < TARGET_US else "misses"
    say(f"   per check {verdict} the target (p99 < {TARGET_US:g} µs); {calls:,} checks 7 s apart "
        f"({calls * 7 / 86400:.0f} simulated days, every occurrence boundary included)")  # fmt: skip
    path = save("maintenance", out)
    say(f"   raw figures: {path}")
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    main(quick=ap.parse_args().quick)
