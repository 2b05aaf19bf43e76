"""Group commit: requests that arrive together are written in one transaction.

A request hands its item to `submit` and waits; one collector thread takes whatever is
waiting (up to `max_batch`, waiting at most `window_s` for more once the first arrived),
commits it in one call, and wakes each request with its own answer. A request is answered
only after the transaction holding its item committed, so a 200 still means "recorded".

When a batch fails, its items are tried again one by one, so one bad item fails only its
own request. The collector thread stops after `idle_s` without work and starts again on
the next item: an idle process keeps no thread for it, and nothing needs closing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Waiter(Generic[T, R]):
    """One request's item and answer. `done` is a lock taken at birth and released by the collector
    when the answer is in: the cheapest hand-off there is (an Event is a Condition and two more locks)."""

    __slots__ = ("done", "error", "item", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = threading.Lock()
        self.done.acquire()
        self.result: R | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        commit: Callable[[Sequence[T]], Sequence[R]],
        max_batch: int = 64,
        window_s: float = 0.002,
        idle_s: float = 5.0,
        name: str = "group-commit",
    ) -> None:
        self.commit = commit
        self.max_batch, self.window_s, self.idle_s, self.name = max_batch, window_s, idle_s, name
        self._waiting: list[_Waiter[T, R]] = []
        self._cond = threading.Condition()
        self._running = False
        self.batches = 0  # committed, for tests and logs
        self.items = 0

    def submit(self, item: T) -> R:
        """Wait until `item` is committed with whatever else arrived meanwhile; its answer, or its error."""
        waiter: _Waiter[T, R] = _Waiter(item)
        with self._cond:
            self._waiting.append(waiter)
            if not self._running:
                self._running = True
                threading.Thread(target=self._collect, name=self.name, daemon=True).start()
            elif len(self._waiting) == 1 or len(self._waiting) >= self.max_batch:
                self._cond.notify()  # the collector waits for a first item, or for a full batch
        waiter.done.acquire()
        if waiter.error is not None:
            raise waiter.error
        return waiter.result  # type: ignore[return-value]

    def _take(self) -> list[_Waiter[T, R]] | None:
        """The next batch; None when there was no work for `idle_s` (the thread then ends)."""
        with self._cond:
            if not self._waiting:
                self._cond.wait(self.idle_s)
                if not self._waiting:
                    self._running = False
                    return None
            deadline = time.monotonic() + self.window_s
            while len(self._waiting) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            return batch

    def _collect(self) -> None:
        while (batch := self._take()) is not None:
            self._commit(batch)

    def _commit(self, batch: list[_Waiter[T, R]]) -> None:
        try:
            results = self.commit([w.item for w in batch])
            for w, r in zip(batch, results, strict=True):
                w.result = r
        except BaseException as exc:
            if len(batch) == 1:
                batch[0].error = exc
            else:  # one by one: an item that fails alone fails only its own request
                for w in batch:
                    try:
                        [w.result] = self.commit([w.item])
                    except BaseException as one:
                        w.error = one
        finally:
            self.batches += 1
            self.items += len(batch)
            for w in batch:
                w.done.release()
