"""APScheduler 3 under a lease, enqueuing checks one message per slot of due monitors.

APScheduler runs the leader's periodic jobs and one loop that wakes at every slot
boundary (`slot_s`, 0.2 s by default). Each wake takes the monitors due in the slots that
passed out of a timing wheel (`wheel.SlotWheel`: ~100 bytes per monitor, no APScheduler
job per monitor), acquires their in-flight guards in one call (`acquire_many`, one Redis
round trip), and sends them in `check_batch` messages of at most `batch_max` items, each
carrying its monitor's planned time and guard token. A tick's work is the due set; the
number of monitors costs memory, not time.

Planned times are EPOCH + phase(uid) + k·interval (`timing`), the same on every scheduler
instance, so a standby that takes over fires each monitor at its next planned time from
now. We do not jitter: the phase already spreads monitors evenly.
"""

from __future__ import annotations

import gc
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from app.catalog import Catalog
from app.coord import InflightGuard
from app.scheduler.timing import (
    DRIFT_BUCKETS,
    EPOCH,
    DriftStats,
    phase_offset,
    phase_start,
    planned_time,
)  # fmt: skip
from app.scheduler.wheel import Due, Job, SlotWheel, chunks

log = logging.getLogger(__name__)

Enqueue = Callable[[str, int, float, float, str], None]  # uid, generation, planned unix time, timeout, token
# One due check in a batch message: uid, generation, planned unix time, guard token (as app.actors.BatchItem).
BatchItem = tuple[str, int, float, str | None]
EnqueueBatch = Callable[[list[BatchItem], float], None]  # items, the longest of their timeouts

DEFAULT_SLOT_S = 0.2
DEFAULT_BATCH_MAX = 150
_PAST_BOUNDARY_S = 0.002  # wake just after a slot ends, so its last monitor is due
_REFREEZE_SHARE = 0.01  # a sync that changes more than this share of the jobs re-freezes the heap

__all__ = [
    "DRIFT_BUCKETS", "EPOCH", "BatchItem", "DriftStats", "Enqueue", "EnqueueBatch", "MonitorScheduler",
    "phase_offset", "planned_time",
]  # fmt: skip


class MonitorScheduler:
    """Give it `enqueue_batch` (one message per chunk of a slot); `enqueue` (one message per check)
    remains for callers that want every check on its own."""

    def __init__(
        self,
        catalog: Catalog,
        enqueue: Enqueue | None,
        guard: InflightGuard,
        guard_ttl: Callable[[float], float],
        poll_interval: float = 1.0,
        executor_threads: int = 8,
        periodic: list[tuple[str, float, Callable[[], None]]] | None = None,
        enqueue_batch: EnqueueBatch | None = None,
        slot_s: float = DEFAULT_SLOT_S,
        batch_max: int = DEFAULT_BATCH_MAX,
    ) -> None:
        if enqueue is None and enqueue_batch is None:
            raise ValueError("give enqueue_batch (or enqueue)")
        if batch_max < 1:
            raise ValueError("batch_max must be at least 1")
        self.catalog = catalog
        self.enqueue = enqueue
        self.enqueue_batch = enqueue_batch
        self.guard = guard
        self.guard_ttl = guard_ttl
        self.poll_interval = poll_interval
        self.slot_s = slot_s
        self.batch_max = batch_max
        self.periodic = periodic or []
        self.stats = DriftStats([])
        self._wheel = SlotWheel(slot_s)
        self._lock = threading.Lock()  # the wheel and the first checks: sync, lead and the slot loop
        self._first: dict[str, None] = {}  # monitors added or changed since the last slot, in order
        self._sched = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(executor_threads), "slots": ThreadPoolExecutor(1)},
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
        # The slot loop starts with the first resume and runs until shutdown; it only works while leading.
        self._sched.add_job(self._slot_loop, id="slots", name="slots", executor="slots",
                            misfire_grace_time=None)  # fmt: skip
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
        """Take over: each monitor at its next planned time from now. Replaying the slots missed
        while standing by would stampede the workers with checks that are already late."""
        with self._lock:
            moved = self._wheel.from_now(time.time())
        log.info("scheduler: leading; %d monitors scheduled (%d from now)", len(self._wheel), moved)
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
        """Make the schedule match the enabled monitors. Returns (added, changed, removed).

        The diff (by uid and shape: interval, timeout, generation) is read outside the lock; only
        the changes are applied under it, so ticks go on while 100k monitors are compared. A
        monitor added or changed after the first sync is checked at the next slot (as Uptime
        Kuma checks on save), then at its planned times."""
        first_sync = self._synced_revision < 0
        revision, monitors = self.catalog.snapshot()
        jobs = self._wheel.jobs
        wanted: set[str] = set()
        placed: list[tuple[str, Job]] = []  # new, or a new interval (a new phase)
        edited: list[tuple[str, float, int]] = []  # same interval: timeout, generation
        for entry in monitors:
            spec = entry.spec
            if not spec.enabled:
                continue
            uid = entry.uid
            wanted.add(uid)
            job = jobs.get(uid)
            if job is None or job.interval != spec.interval:
                placed.append((uid, Job(spec.interval, spec.timeout, entry.generation,
                                        phase_start(uid, spec.interval))))  # fmt: skip
            elif job.timeout != spec.timeout or job.generation != entry.generation:
                edited.append((uid, spec.timeout, entry.generation))
        gone = [uid for uid in list(jobs) if uid not in wanted]
        added = 0
        with self._lock:
            now = time.time()  # read under the lock: the slot loop cannot have moved past it
            for uid in gone:
                self._wheel.remove(uid)
                self._first.pop(uid, None)
            for uid, job in placed:
                old = jobs.get(uid)
                added += old is None
                self._wheel.place(uid, job, now)
                if not first_sync and (old is None or old.generation != job.generation):
                    self._first[uid] = None
            for uid, timeout, generation in edited:
                job = jobs[uid]
                if job.generation != generation and not first_sync:
                    self._first[uid] = None
                job.timeout, job.generation = timeout, generation
        self._synced_revision = revision
        changed, removed = len(placed) + len(edited) - added, len(gone)
        if first_sync or added + changed + removed > _REFREEZE_SHARE * len(jobs):
            # Tens of thousands of long-lived catalog entries: move them out of the collector's way,
            # or each full collection walks them all and pauses the slot loop while it does.
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        if added or changed or removed:
            log.info("scheduler: %d monitors (+%d ~%d -%d)", len(jobs), added, changed, removed)
        return added, changed, removed

    def job_count(self) -> int:
        return len(self._wheel)

    def job(self, uid: str) -> Job | None:
        """A monitor's place in the schedule (interval, timeout, generation, next planned time)."""
        return self._wheel.jobs.get(uid)

    def next_run(self, uid: str) -> datetime | None:
        due = self._wheel.next_due(uid)
        return datetime.fromtimestamp(due, UTC) if due is not None else None

    # -- the slot loop ------------------------------------------------------------------------
    def _slot_loop(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            wake = (math.floor(now / self.slot_s) + 1) * self.slot_s + _PAST_BOUNDARY_S
            if self._stop.wait(wake - now):
                return
            if not self._leading:
                continue
            try:
                self.run_slot()
            except Exception:
                log.exception("scheduler: a slot failed; its monitors come round at their next time")

    def run_slot(self, now: float | None = None) -> int:
        """Enqueue what is due at `now` (default: the clock): guards in one call, then one message
        per chunk. Returns the number of checks enqueued."""
        now = time.time() if now is None else now
        with self._lock:
            due = self._wheel.take(now)
            firsts, self._first = self._first, {}
            if firsts:
                # A first check stands in for the same monitor's regular one in this slot.
                due = [d for d in due if d.uid not in firsts]
                jobs = self._wheel.jobs
                due += [Due(u, jobs[u].generation, now, jobs[u].timeout) for u in firsts if u in jobs]
        if not due:
            return 0
        try:
            tokens = self.guard.acquire_many([d.uid for d in due], [self.guard_ttl(d.timeout) for d in due])
        except Exception as exc:
            log.warning("scheduler: cannot reach the guard (%s); %d monitors wait for their next time",
                        exc, len(due))  # fmt: skip
            return 0
        ready = [(d, t) for d, t in zip(due, tokens, strict=True) if t is not None]
        self.stats.skipped_inflight += len(due) - len(ready)
        cap = self.batch_max if self.enqueue_batch is not None else 1
        enqueued = 0
        for chunk in chunks(ready, cap, lambda pair: pair[0].timeout):
            items: list[BatchItem] = [(d.uid, d.generation, d.planned, t) for d, t in chunk]
            timeout = max(d.timeout for d, _ in chunk)
            sent_at = time.time()
            try:
                self._send(items, timeout)
            except Exception as exc:
                self._release(chunk)
                log.warning("scheduler: cannot enqueue %d checks (%s); they come round at their next time",
                            len(chunk), exc)  # fmt: skip
                continue
            self.stats.messages += 1
            enqueued += len(chunk)
            for d, _ in chunk:
                if d.uid not in firsts:
                    self.stats.add(sent_at - d.planned)
        self.stats.enqueued += enqueued
        return enqueued

    def _send(self, items: list[BatchItem], timeout: float) -> None:
        if self.enqueue_batch is not None:
            self.enqueue_batch(items, timeout)
            return
        assert self.enqueue is not None and len(items) == 1
        uid, generation, planned, token = items[0]
        self.enqueue(uid, generation, planned, timeout, token or "")

    def _release(self, chunk: list[tuple[Due, str]]) -> None:
        for d, token in chunk:
            try:
                self.guard.release(d.uid, token)
            except Exception:
                pass  # the mark expires by itself
