"""Closing a check's sockets from outside when its deadline passes.

A server that drips a byte before every socket timeout keeps a check blocked in `recv` for
as long as it likes. So every socket a check's HTTP requests use is registered with the
check's `SocketTracker` (through the connection classes `install` puts on the adapter,
which also keep timing.py's phase timings), and the shared watchdog of `call_within`
shuts them down when the check's deadline passes, which wakes the blocked `recv` at once
and lets the check's thread answer and go on with the next check.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from app.checkers.timing import TimedHTTPConnection, TimedHTTPSConnection

_current = threading.local()


class SocketTracker:
    """The sockets of one check; `close()` shuts each one down, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self.closed = False

    def add(self, sock: Any) -> None:
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            if self.closed:
                _shut(sock)
                return
            self._socks.append(sock)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            socks, self._socks = self._socks, []
        for s in socks:
            _shut(s)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def tracking(tracker: SocketTracker) -> Iterator[SocketTracker]:
    """Sockets used by HTTP requests in this thread, inside the block, belong to `tracker`."""
    _current.tracker = tracker
    try:
        yield tracker
    finally:
        _current.tracker = None


def _register(conn: Any) -> None:
    tracker = getattr(_current, "tracker", None)
    if tracker is not None:
        tracker.add(getattr(conn, "sock", None))


class _Tracked:
    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _register(self)

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        _register(self)  # a kept-alive connection was connected by an earlier check
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _TrackedHTTPConnection(_Tracked, TimedHTTPConnection):
    pass


class _TrackedHTTPSConnection(_Tracked, TimedHTTPSConnection):
    pass


class _TrackedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _TrackedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection  # type: ignore[assignment]


POOL_CLASSES = {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}


def install(adapter: Any) -> None:
    """Make a requests adapter's new pools use tracked (and timed, app/checkers/timing.py) connections."""
    manager = getattr(adapter, "poolmanager", None)
    if manager is not None and manager.pool_classes_by_scheme is not POOL_CLASSES:
        manager.pool_classes_by_scheme = POOL_CLASSES
