"""When a monitor is due: its phase in its interval, and the enqueue lateness we measure.

Every monitor fires at EPOCH + phase + k·interval, with the phase derived from its uid, so
N monitors of one interval spread evenly and every scheduler instance (a standby taking
over) fires them at the same instants. Pure functions and a counter; no I/O.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_EPOCH_S = EPOCH.timestamp()


def phase_offset(uid: str, interval: float) -> float:
    """Where in its interval a monitor fires: uniform over [0, interval), stable per uid."""
    h = int.from_bytes(hashlib.blake2b(uid.encode(), digest_size=8).digest(), "big")
    return (h / 2**64) * interval


def phase_start(uid: str, interval: float) -> float:
    """The monitor's first planned fire time (unix seconds); the others follow every `interval`."""
    return _EPOCH_S + phase_offset(uid, interval)


def planned_time(uid: str, interval: float, now: float) -> float:
    """The most recent planned fire time at or before `now` (unix seconds)."""
    start = phase_start(uid, interval)
    return start + ((now - start) // interval) * interval


def next_fire(start: float, interval: float, after: float) -> float:
    """The first planned fire time at or after `after`, for a monitor whose series starts at `start`."""
    return start + math.ceil((after - start) / interval) * interval


# Upper bounds of the drift histogram's buckets (seconds); /metrics exports them cumulatively.
DRIFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(slots=True)
class DriftStats:
    """Enqueue lateness (actual minus planned): recent samples for the benchmark, and a
    cumulative histogram (counts per bucket, count, sum) for /metrics."""

    samples: list[float]
    enqueued: int = 0
    skipped_inflight: int = 0
    messages: int = 0  # messages sent: a slot's due monitors travel in one per `batch_max`
    bucket_counts: list[int] = field(default_factory=lambda: [0] * len(DRIFT_BUCKETS))
    count: int = 0
    total: float = 0.0
    bounds: tuple[float, ...] = DRIFT_BUCKETS

    def add(self, lateness: float) -> None:
        self.samples.append(lateness)
        i = bisect.bisect_left(DRIFT_BUCKETS, lateness)
        if i < len(DRIFT_BUCKETS):
            self.bucket_counts[i] += 1
        self.count += 1
        self.total += lateness
        if len(self.samples) > 200_000:
            del self.samples[:100_000]
