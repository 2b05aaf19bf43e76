"""APScheduler 3 under a lease, enqueuing checks and nothing else.

Each monitor gets one IntervalTrigger job whose start is a fixed epoch plus a phase
derived from the monitor's uid, so N monitors with the same interval spread evenly and
every scheduler instance (a standby taking over) fires them at the same instants. We do
not use trigger jitter: in APScheduler 3 it accumulates and stretches the mean period.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from app.catalog import Catalog, MonitorEntry
from app.coord import InflightGuard

log = logging.getLogger(__name__)

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
Enqueue = Callable[[str, int, float, float], None]  # uid, generation, planned unix time, timeout


def phase_offset(uid: str, interval: float) -> float:
    """Where in its interval a monitor fires: uniform over [0, interval), stable per uid."""
    h = int.from_bytes(hashlib.blake2b(uid.encode(), digest_size=8).digest(), "big")
    return (h / 2**64) * interval


def planned_time(uid: str, interval: float, now: float) -> float:
    """The most recent planned fire time at or before `now` (unix seconds)."""
    start = EPOCH.timestamp() + phase_offset(uid, interval)
    return start + ((now - start) // interval) * interval


@dataclass(frozen=True, slots=True)
class JobShape:
    interval: float
    timeout: float


# Upper bounds of the drift histogram's buckets (seconds); /metrics exports them cumulatively.
DRIFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(slots=True)
class DriftStats:
    """Enqueue lateness (actual minus planned): recent samples for the benchmark, and a
    cumulative histogram (counts per bucket, count, sum) for /metrics."""

    samples: list[float]
    enqueued: int = 0
    skipped_inflight: int = 0
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


class MonitorScheduler:
    def __init__(
        self,
        catalog: Catalog,
        enqueue: Enqueue,
        guard: InflightGuard,
        guard_ttl: Callable[[float], float],
        poll_interval: float = 1.0,
        executor_threads: int = 8,
        periodic: list[tuple[str, float, Callable[[], None]]] | None = None,
    ) -> None:
        self.catalog = catalog
        self.enqueue = enqueue
        self.guard = guard
        self.guard_ttl = guard_ttl
        self.poll_interval = poll_interval
        self.periodic = periodic or []
        self.stats = DriftStats([])
        self._shapes: dict[str, JobShape] = {}
        self._sched = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(executor_threads)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
            timezone=UTC,
        )
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._leading = False
        self._synced_revision = -1

    # -- leadership ---------------------------------------------------------------------------
    def start(self, leading: bool = False) -> None:
        """Start the scheduler paused (or running when `leading`) and follow the resource cache."""
        self.sync()
        self._sched.start(paused=not leading)
        self._leading = leading
        for name, every, fn in self.periodic:
            self._sched.add_job(
                fn,
                IntervalTrigger(seconds=every, timezone=UTC),
                id=f"periodic:{name}",
                name=name,
                misfire_grace_time=max(1, int(every)),
            )
        self._poller = threading.Thread(target=self._follow, name="scheduler-follow", daemon=True)
        self._poller.start()

    def lead(self) -> None:
        log.info("scheduler: leading; %d monitor jobs active", len(self._shapes))
        self._leading = True
        self._sched.resume()

    def follow(self) -> None:
        log.info("scheduler: standing by")
        self._leading = False
        self._sched.pause()

    @property
    def leading(self) -> bool:
        return self._leading

    def shutdown(self) -> None:
        self._stop.set()
        if self._poller:
            self._poller.join(5)
        if self._sched.running:
            self._sched.shutdown(wait=False)

    # -- following resources ------------------------------------------------------------------
    def _follow(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                # The catalog is shared (web, workers): compare revisions rather than trusting
                # refresh()'s "changed" answer, which another reader may already have taken.
                self.catalog.refresh()
                if self.catalog.revision != self._synced_revision:
                    self.sync()
            except Exception:
                log.exception("scheduler: cannot read the resource cache; will retry")

    def sync(self) -> tuple[int, int, int]:
        """Make the jobs match the enabled monitors. Returns (added, changed, removed)."""
        self._synced_revision, monitors = self.catalog.snapshot()
        wanted: dict[str, MonitorEntry] = {m.uid: m for m in monitors if m.spec.enabled}
        added = changed = removed = 0
        for uid in list(self._shapes):
            if uid not in wanted:
                self._remove(uid)
                removed += 1
        for uid, entry in wanted.items():
            shape = JobShape(entry.spec.interval, entry.spec.timeout)
            old = self._shapes.get(uid)
            if old == shape:
                continue
            trigger = IntervalTrigger(
                seconds=shape.interval,
                start_date=datetime.fromtimestamp(EPOCH.timestamp() + phase_offset(uid, shape.interval), UTC),
                timezone=UTC,
            )
            grace = max(1, int(min(shape.interval / 2, 30)))
            if old is None:
                self._sched.add_job(
                    self._tick,
                    trigger,
                    args=(uid,),
                    id=uid,
                    name=entry.key,
                    misfire_grace_time=grace,
                    replace_existing=True,
                )
                added += 1
            else:
                self._sched.reschedule_job(uid, trigger=trigger)
                self._sched.modify_job(uid, misfire_grace_time=grace)
                changed += 1
            self._shapes[uid] = shape
        if added or changed or removed:
            # Tens of thousands of long-lived job objects: move them out of the collector's way,
            # or a full collection pauses every tick for hundreds of milliseconds.
            gc.collect()
            gc.freeze()
            log.info("scheduler: %d monitors (+%d ~%d -%d)", len(self._shapes), added, changed, removed)
        return added, changed, removed

    def _remove(self, uid: str) -> None:
        self._shapes.pop(uid, None)
        try:
            self._sched.remove_job(uid)
        except Exception:
            pass

    def job_count(self) -> int:
        return len(self._shapes)

    def next_run(self, uid: str) -> datetime | None:
        job = self._sched.get_job(uid)
        return job.next_run_time if job else None

    # -- the job ------------------------------------------------------------------------------
    def _tick(self, uid: str) -> None:
        entry = self.catalog.monitor(uid)
        shape = self._shapes.get(uid)
        if entry is None or shape is None or not entry.spec.enabled:
            return
        now = time.time()
        planned = planned_time(uid, shape.interval, now)
        if not self.guard.acquire(uid, self.guard_ttl(shape.timeout)):
            self.stats.skipped_inflight += 1
            return
        try:
            self.enqueue(uid, entry.generation, planned, shape.timeout)
        except Exception:
            self.guard.release(uid)
            log.exception("scheduler: cannot enqueue a check of %s; the next tick retries", entry.key)
            return
        self.stats.enqueued += 1
        self.stats.add(now - planned)
