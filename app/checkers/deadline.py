"""One overall deadline per check, shared by every step of it.

Socket timeouts bound each wait, not the whole check: a server that drips a byte just
before each timeout, or a resolver that retries, can stretch a check far past
`spec.timeout`. Each step therefore asks the deadline for what is left, and a step that
a library runs where we cannot reach goes through `call_within`: it runs in the caller's
own thread (no thread is started per check), and one shared `Watchdog` thread calls the
step's `on_timeout` when the deadline passes. Closing the step's sockets there
(app/checkers/sockets.py) wakes a `recv` blocked on a dripping server at once; steps
without sockets to close end by their own timeouts, which are set from what is left.
Whatever comes back after the deadline (and a short grace) is answered as a timeout,
as if the step had not come back at all.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# How long past the deadline a step may still answer in its own, better-worded terms (a socket
# timeout set to what was left fires right at the deadline) before the timeout answers for it.
GRACE_S = 0.05


class DeadlineExceeded(Exception):
    """The check's overall time ran out before the step finished."""


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.perf_counter()
        self.end = self.start + seconds

    def remaining(self) -> float:
        """Seconds left, never zero: a zero socket timeout would mean non-blocking, not 'expired'."""
        return max(0.001, self.end - time.perf_counter())

    def expired(self) -> bool:
        return time.perf_counter() >= self.end

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.start) * 1000, 2)

    def check(self, what: str) -> None:
        if self.expired():
            raise DeadlineExceeded(what)


class Alarm:
    """One armed call of the watchdog; `cancel` before it fires and it never does."""

    __slots__ = ("action", "fired")

    def __init__(self, action: Callable[[], object]) -> None:
        self.action: Callable[[], object] | None = action
        self.fired = False

    def cancel(self) -> None:
        self.action = None


class Watchdog:
    """One thread per process that runs each armed action at its time (perf_counter clock).

    Arming costs a heap push under a lock; the thread is woken only when the new alarm is the
    earliest one. Cancelled alarms stay in the heap until their time and are then dropped.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Alarm]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None

    def arm(self, at: float, action: Callable[[], object]) -> Alarm:
        alarm = Alarm(action)
        with self._cond:
            heapq.heappush(self._heap, (at, next(self._seq), alarm))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kubekuma-watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is alarm:
                self._cond.notify()
        return alarm

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.perf_counter():
                    wait = self._heap[0][0] - time.perf_counter() if self._heap else None
                    self._cond.wait(wait)
                _, _, alarm = heapq.heappop(self._heap)
                action, alarm.action = alarm.action, None
                alarm.fired = action is not None
            if action is not None:
                try:
                    action()
                except Exception:  # an action only closes sockets; nothing to report to anyone
                    pass


WATCHDOG = Watchdog()


def call_within(fn: Callable[[], T], deadline: Deadline, on_timeout: Callable[[], object] | None = None) -> T:
    """`fn()` in this thread; DeadlineExceeded if it does not come back by the deadline (plus grace).

    `on_timeout` runs on the shared watchdog when the deadline passes first: it must make `fn`
    return (close its sockets). Without it `fn` ends by its own timeouts, set from what is left.
    Exceptions raised by `fn` in time propagate to the caller.
    """
    alarm = WATCHDOG.arm(deadline.end + GRACE_S, on_timeout) if on_timeout is not None else None
    try:
        value = fn()
    except Exception:
        if _late(deadline, alarm):
            raise DeadlineExceeded("no complete answer") from None
        raise
    finally:
        if alarm is not None:
            alarm.cancel()
    if _late(deadline, alarm):
        raise DeadlineExceeded("no complete answer")
    return value


def _late(deadline: Deadline, alarm: Alarm | None) -> bool:
    return (alarm is not None and alarm.fired) or time.perf_counter() > deadline.end + GRACE_S
