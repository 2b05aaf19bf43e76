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
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_SIZE = 32
STRAGGLER_S = 1.0  # past its own timeout, how long a batch still waits for a check
POLL_S = 0.5  # how often a batch looks again while some of its checks wait for a free thread


class CheckPool:
    """`run_all(jobs)`: each job's answer, in order; at most `size` jobs run at once per process."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._executor: cf.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> cf.ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:  # threads start on first use, not when a Runtime is built
                self._executor = cf.ThreadPoolExecutor(self.size, thread_name_prefix="kubekuma-check")
            return self._executor

    def run_all(
        self,
        jobs: Sequence[tuple[Callable[[], T], float]],
        gave_up: Callable[[int, float], T],
    ) -> list[T]:
        """Run each `(fn, timeout)`; a job still running `timeout + STRAGGLER_S` after it started
        is answered by `gave_up(index, seconds it ran)`. Jobs must not raise (run_check never does)."""
        if len(jobs) == 1:  # nothing to overlap: skip the hand-off to another thread
            return [jobs[0][0]()]
        pool = self._pool()
        started: list[float | None] = [None] * len(jobs)

        def job(i: int, fn: Callable[[], T]) -> T:
            started[i] = time.monotonic()
            return fn()

        futures = {pool.submit(job, i, fn): i for i, (fn, _) in enumerate(jobs)}
        out: dict[int, T] = {}
        pending = set(futures)
        while pending:
            now = time.monotonic()
            wait_s = POLL_S if any(started[futures[f]] is None for f in pending) else None
            for f in list(pending):
                i = futures[f]
                began = started[i]
                if began is None:
                    continue
                cut = began + jobs[i][1] + STRAGGLER_S
                if cut <= now and not f.done():
                    pending.discard(f)
                    out[i] = gave_up(i, now - began)
                    log.warning("a check ran %.1fs past its timeout; its batch went on without it", now - cut)
                else:
                    wait_s = cut - now if wait_s is None else min(wait_s, cut - now)
            if not pending:
                break
            done, pending = cf.wait(pending, timeout=max(0.0, wait_s) if wait_s is not None else POLL_S)
            for f in done:
                out[futures[f]] = f.result()
        return [out[i] for i in range(len(jobs))]

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
