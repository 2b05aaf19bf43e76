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
Enqueue = Callable[[str, int, float, float, str], None]  # uid, generation, planned unix time, timeout, token


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
    generation: int = 0  # a changed spec is checked at once, not at its next slot


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
        self._first_checks: list[str] = []

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
        self._from_now()
        self._sched.resume()

    def _from_now(self) -> None:
        """A standby that takes over runs each job at its next slot from now. Left as they were,
        paused jobs would make APScheduler walk every interval missed while standing by."""
        now = datetime.now(UTC)
        for job in self._sched.get_jobs():
            nxt = job.trigger.get_next_fire_time(None, now)
            if nxt is not None and job.next_run_time is not None and job.next_run_time < now:
                job.modify(next_run_time=nxt)

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
        """Make the jobs match the enabled monitors. Returns (added, changed, removed).

        A monitor added or changed after the first sync is checked within a second (as Uptime
        Kuma checks on save), then at its slots."""
        first_sync = self._synced_revision < 0
        self._synced_revision, monitors = self.catalog.snapshot()
        wanted: dict[str, MonitorEntry] = {m.uid: m for m in monitors if m.spec.enabled}
        added = changed = removed = 0
        for uid in list(self._shapes):
            if uid not in wanted:
                self._remove(uid)
                removed += 1
        for uid, entry in wanted.items():
            shape = JobShape(entry.spec.interval, entry.spec.timeout, entry.generation)
            old = self._shapes.get(uid)
            if old == shape:
                continue
            if first_sync:
                pass  # the whole schedule at start: each monitor at its slot, no stampede
            elif old is None or old.generation != shape.generation:
                self._first_checks.append(uid)
            if old is not None and (old.interval, old.timeout) == (shape.interval, shape.timeout):
                self._shapes[uid] = shape
                changed += 1
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
        if self._first_checks and self._sched.running:
            self._sched.add_job(self._first, id="first-checks", replace_existing=True)
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

    # -- the jobs -----------------------------------------------------------------------------
    def _first(self) -> None:
        """Check the monitors added or changed since the last sync now (runs only while leading)."""
        uids, self._first_checks = self._first_checks, []
        for uid in uids:
            self._tick(uid, first=True)

    def _tick(self, uid: str, first: bool = False) -> None:
        entry = self.catalog.monitor(uid)
        shape = self._shapes.get(uid)
        if entry is None or shape is None or not entry.spec.enabled:
            return
        now = time.time()
        planned = now if first else planned_time(uid, shape.interval, now)
        try:
            token = self.guard.acquire(uid, self.guard_ttl(shape.timeout))
        except Exception as exc:
            log.warning(
                "scheduler: cannot reach the guard for %s (%s); the next tick retries", entry.key, exc
            )
            return
        if token is None:
            self.stats.skipped_inflight += 1
            return
        try:
            self.enqueue(uid, entry.generation, planned, shape.timeout, token)
        except Exception as exc:
            try:
                self.guard.release(uid, token)
            except Exception:
                pass  # the mark expires by itself
            log.warning("scheduler: cannot enqueue a check of %s (%s); the next tick retries", entry.key, exc)
            return
        self.stats.enqueued += 1
        if not first:
            self.stats.add(now - planned)
