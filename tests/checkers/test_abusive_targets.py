"""Targets that misbehave on purpose: the check ends on time, closes its socket, leaves no thread behind."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from app.model import CheckResult, FailureClass

HEAD_OK = b"HTTP/1.1 200 OK\r\n"


def drip_headers(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(HEAD_OK)
    while not stop.wait(0.1):
        conn.sendall(b"X")  # one header line that never ends


def drip_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(HEAD_OK + b"Content-Length: 1000000000\r\n\r\n")
    while not stop.wait(0.1):
        conn.sendall(b"x")


def endless_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(HEAD_OK + b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    while not stop.is_set():
        conn.sendall(chunk)


BOMB = gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=9)  # 200 MiB of zeros in ~200 KiB


def gzip_bomb(conn: socket.socket, stop: threading.Event) -> None:
    head = HEAD_OK + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(BOMB)
    conn.sendall(head + BOMB)
    conn.recv(1)  # until the client hangs up


def redirect_loop(conn: socket.socket, stop: threading.Event) -> None:
    while not stop.is_set():
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n")
        if not conn.recv(65536):
            return


def header_flood(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(HEAD_OK)
    while not stop.is_set():
        conn.sendall(b"X-Flood: " + b"y" * 100 + b"\r\n")


class EvilServer:
    def __init__(self, behaviour: Callable[[socket.socket, threading.Event], None]) -> None:
        self.behaviour = behaviour
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.open = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="evil-accept", daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="evil-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            self.open += 1
        try:
            conn.recv(65536)  # the request
            self.behaviour(conn, self.stop)
        except OSError:
            pass  # the client closed: what we want to see
        finally:
            conn.close()
            with self._lock:
                self.open -= 1

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@contextmanager
def evil(behaviour: Callable[[socket.socket, threading.Event], None]) -> Iterator[EvilServer]:
    server = EvilServer(behaviour)
    try:
        yield server
    finally:
        server.close()


def checker_threads() -> int:
    return sum(1 for t in threading.enumerate() if not t.name.startswith("evil-"))


def settle(cond: Callable[[], bool], timeout: float = 3.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.mark.parametrize(
    ("behaviour", "failure"),
    [
        (drip_headers, FailureClass.TIMEOUT),
        (drip_body, FailureClass.TIMEOUT),
        (endless_body, None),
        (gzip_bomb, None),
        (redirect_loop, FailureClass.STATUS),
        (header_flood, FailureClass.PROTOCOL),
    ],
    ids=["drip-headers", "drip-body", "endless-body", "gzip-bomb", "redirect-loop", "header-flood"],
)
def test_abusive_targets_end_on_time_and_leave_nothing_behind(
    run: Callable[..., CheckResult],
    behaviour: Callable[[socket.socket, threading.Event], None],
    failure: object,
) -> None:
    before = checker_threads()
    with evil(behaviour) as server:
        started = time.perf_counter()
        for _ in range(3):  # a leak per check would add up
            result = run(
                "http", {"url": f"http://127.0.0.1:{server.port}/", "maxBodyBytes": 65536}, timeout="1s"
            )
            if failure is not None:
                assert result.failure is failure, result.reason
        assert time.perf_counter() - started < 3 * 1.5
        # The check hung up: the server sees its connections closed while it still wants to talk.
        assert settle(lambda: server.open == 0), f"{server.open} connections still open"
    assert settle(lambda: checker_threads() <= before), f"{checker_threads() - before} threads left behind"
