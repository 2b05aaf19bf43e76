"""The checks of a batch, run concurrently on one bounded thread pool per worker process.

Every batch a worker process handles shares the same pool, so the number of threads
running checks stays at the pool's size however many Dramatiq threads hand it batches
(those only wait). Pool threads live as long as the process: each keeps its own HTTP
session (`Runtime.session` is per thread), so a target's connections are reused from one
batch to the next. Threads are measured against an event loop in docs/architecture.md.

A batch waits for its checks, but not for a stuck one: a check that has been running
longer than its own timeout plus `STRAGGLER_S` (a resolver or a client library that
ignores the deadline) is answered as a timeout and left to finish on its own; its late
result is dropped. So a slow target delays the rest of its batch by its timeout at most.
And a batch does not wait for a thread forever: when the pool is so busy (many targets
timing out at once) that a check has not started `START_WITHIN_S` after its batch did, it
is not run at all, never reported as a failure it did not have; its mark is released and
its next slot checks it, and the batch stays within its guards' TTL and its time limit.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
_POOLS = itertools.count(1)

DEFAULT_SIZE = 32
STRAGGLER_S = 1.0  # past its own timeout, how long a batch still waits for a check
POLL_S = 0.5  # how often a batch looks again while some of its checks wait for a free thread
# A check that found no free thread this long after its batch started is not run: its guard's
# TTL (timeout + 10 s) and the message's time limit count from the batch's start.
START_WITHIN_S = 5.0


class CheckPool:
    """`run_all(jobs)`: each job's answer, in order; at most `size` jobs run at once per process."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self.name = f"kubekuma-check-{next(_POOLS)}"  # its threads are named {name}_{n}
        self._executor: cf.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def threads(self) -> int:
        """How many threads this pool has started (each lives as long as the pool)."""
        return sum(1 for t in threading.enumerate() if t.name.startswith(self.name + "_"))

    def _pool(self) -> cf.ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:  # threads start on first use, not when a Runtime is built
                self._executor = cf.ThreadPoolExecutor(self.size, thread_name_prefix=self.name)
            return self._executor

    def run_all(
        self,
        jobs: Sequence[tuple[Callable[[], T], float]],
        gave_up: Callable[[int, float], T],
        start_within: float = START_WITHIN_S,
    ) -> list[T | None]:
        """Run each `(fn, timeout)`; answers in order. A job still running `timeout + STRAGGLER_S`
        after it started is answered by `gave_up(index, seconds it ran)`; a job that found no free
        thread within `start_within` is not run at all (None). Jobs must not raise."""
        if len(jobs) == 1:  # nothing to overlap: skip the hand-off to another thread
            return [jobs[0][0]()]
        pool = self._pool()
        lock = threading.Lock()
        started: list[float | None] = [None] * len(jobs)
        dropped = [False] * len(jobs)

        def job(i: int, fn: Callable[[], T]) -> T | None:
            with lock:
                if dropped[i]:
                    return None
                started[i] = time.monotonic()
            return fn()

        start_by = time.monotonic() + start_within
        futures = {pool.submit(job, i, fn): i for i, (fn, _) in enumerate(jobs)}
        out: dict[int, T | None] = {}
        pending = set(futures)
        while pending:
            now = time.monotonic()
            wait_s: float | None = None
            for f in list(pending):
                i = futures[f]
                with lock:
                    if started[i] is None and now >= start_by:
                        dropped[i] = True
                    began = started[i]
                if dropped[i]:
                    pending.discard(f)
                    out[i] = None
                    continue
                cut = start_by if began is None else began + jobs[i][1] + STRAGGLER_S
                if began is not None and cut <= now and not f.done():
                    pending.discard(f)
                    out[i] = gave_up(i, now - began)
                    log.warning("a check ran %.1fs past its timeout; its batch went on without it", now - cut)
                else:
                    wait_s = cut - now if wait_s is None else min(wait_s, cut - now)
            if not pending:
                break
            timeout = min(POLL_S, max(0.0, wait_s)) if wait_s is not None else POLL_S
            done, pending = cf.wait(pending, timeout=timeout, return_when=cf.ALL_COMPLETED)
            for f in done:
                out[futures[f]] = f.result()
        skipped = sum(1 for i in range(len(jobs)) if dropped[i])
        if skipped:
            log.warning("the check pool was busy: %d check(s) of a batch not run; their next slot runs them",
                        skipped)  # fmt: skip
        return [out[i] for i in range(len(jobs))]

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
