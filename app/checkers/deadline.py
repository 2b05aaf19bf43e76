"""One overall deadline per check, shared by every step of it.

Socket timeouts bound each wait, not the whole check: a server that drips a byte just
before each timeout, or a resolver that retries, can stretch a check far past
`spec.timeout`. Each step therefore asks the deadline for what is left, and the libraries
that block where we cannot reach (getaddrinfo inside urllib3 or websocket-client) run in
a helper thread that is abandoned when the deadline passes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# How long past the deadline we wait for a helper thread to report its own, better-worded
# timeout before answering for it.
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


def call_within(fn: Callable[[], T], deadline: Deadline, on_timeout: Callable[[], object] | None = None) -> T:
    """Run `fn` in a daemon thread; raise DeadlineExceeded if it is not done by the deadline.

    `on_timeout` is called when the deadline passes first: closing the step's sockets there
    (app/checkers/sockets.py) ends the abandoned thread at once. Without it the thread runs
    until its own socket timeouts end it; its result is dropped. Exceptions raised by `fn`
    propagate to the caller.
    """
    box: list[T] = []
    err: list[BaseException] = []

    def run() -> None:
        try:
            box.append(fn())
        except BaseException as exc:  # handed to the caller's thread
            err.append(exc)

    worker = threading.Thread(target=run, name="kubekuma-check", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline.end - time.perf_counter()) + GRACE_S)
    if err:
        raise err[0]
    if box:
        return box[0]
    if on_timeout is not None:
        on_timeout()
    raise DeadlineExceeded("no complete answer")
