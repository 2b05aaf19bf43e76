"""Where an HTTP check's time went: DNS, TCP connect, TLS handshake, first byte, total.

urllib3 resolves and connects in one call, so the connection classes here do those steps
themselves (as urllib3 does, same exceptions) to time each one, and keep the figures on
the connection (app/checkers/sockets.py puts them in the pools a check's adapter uses). A
pooled connection reused by a later check carries no new setup time; the check then
reports `reusedConnection` instead. Every observed breakdown also goes into
`HTTP_PHASES`, a per-process histogram that /metrics exports as
`kubekuma_http_phase_seconds{phase}` in the processes that run checks."""

from __future__ import annotations

import bisect
import socket
import threading
import time
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import allowed_gai_family
from urllib3.util.timeout import _DEFAULT_TIMEOUT

PHASES = ("dns", "connect", "tls", "firstByte", "total")
BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class PhaseHistogram:
    """Cumulative counts per phase and bucket, their count and sum; cheap to observe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets = {p: [0] * len(BUCKETS) for p in PHASES}
        self.count = dict.fromkeys(PHASES, 0)
        self.sum = dict.fromkeys(PHASES, 0.0)

    def observe(self, timing: dict[str, Any]) -> None:
        with self.lock:
            for phase in PHASES:
                ms = timing.get(f"{phase}Ms")
                if ms is None:
                    continue
                seconds = ms / 1000.0
                i = bisect.bisect_left(BUCKETS, seconds)
                if i < len(BUCKETS):
                    self.buckets[phase][i] += 1
                self.count[phase] += 1
                self.sum[phase] += seconds

    def snapshot(self) -> dict[str, tuple[list[int], int, float]]:
        with self.lock:
            return {p: (list(self.buckets[p]), self.count[p], self.sum[p]) for p in PHASES}


HTTP_PHASES = PhaseHistogram()


def _ms(start: float, end: float) -> float:
    return round((end - start) * 1000, 2)


class TimedHTTPConnection(HTTPConnection):
    kk_timing: dict[str, float] | None = None
    kk_fresh = False

    def _new_conn(self) -> socket.socket:
        start = time.perf_counter()
        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, allowed_gai_family(), socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        resolved = time.perf_counter()
        last: OSError | None = None
        for family, kind, proto, _, address in infos:
            sock = socket.socket(family, kind, proto)
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                if self.timeout is not _DEFAULT_TIMEOUT:
                    sock.settimeout(self.timeout)  # type: ignore[arg-type]
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(address)
            except TimeoutError as exc:
                sock.close()
                msg = f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                raise ConnectTimeoutError(self, msg) from exc
            except OSError as exc:
                sock.close()
                last = exc
                continue
            self.kk_timing = {"dnsMs": _ms(start, resolved), "connectMs": _ms(resolved, time.perf_counter())}
            self.kk_fresh = True
            return sock
        if last is None:
            last = OSError(f"{self.host} has no addresses")
        raise NewConnectionError(self, f"Failed to establish a new connection: {last}") from last


class TimedHTTPSConnection(TimedHTTPConnection, HTTPSConnection):
    def connect(self) -> None:
        start = time.perf_counter()
        super().connect()
        if self.kk_timing is not None:
            setup = self.kk_timing["dnsMs"] + self.kk_timing["connectMs"]
            self.kk_timing["tlsMs"] = max(0.0, round(_ms(start, time.perf_counter()) - setup, 2))


def setup_of(raw: Any) -> dict[str, float] | None:
    """The setup timing of the response's connection if this request opened it, else None."""
    conn = getattr(raw, "connection", None) or getattr(raw, "_connection", None)
    if conn is None or not getattr(conn, "kk_fresh", False):
        return None
    conn.kk_fresh = False
    return dict(conn.kk_timing or {})
