"""A small TTL cache with single flight, for what the public reads: status pages, their JSON, badges.

A status page linked from a busy incident post gets a burst of visitors at once. Each
rendered answer is kept for `ttl` seconds under its path and query, and while one
request builds it the others for the same key wait for that one instead of all reading
the database: a burst costs one build. The ETag and the gzipped body are computed once
per build, not per request.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import falcon


@dataclass(frozen=True, slots=True)
class Rendered:
    """A finished answer: what the responder would have written, plus its ETag."""

    body: bytes
    content_type: str
    status: str = "200 OK"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    gzipped: bytes = b""  # the body compressed once per build, for clients that accept gzip

    @classmethod
    def of(
        cls,
        body: bytes | str,
        content_type: str,
        status: str = "200 OK",
        compress: bool = False,
        **headers: str,
    ) -> Rendered:
        data = body.encode() if isinstance(body, str) else body
        gz = gzip.compress(data, compresslevel=6, mtime=0) if compress and len(data) > 1024 else b""
        return cls(data, content_type, status, dict(headers), etag_of(data), gz)

    def write(self, req: falcon.Request, resp: falcon.Response, max_age: int) -> None:
        """Answer with this render: gzipped when the client accepts it (its own ETag, as RFC 9110 asks)."""
        resp.status = self.status
        resp.content_type = self.content_type
        resp.cache_control = [f"public, max-age={max_age}"]
        for k, v in self.headers.items():
            resp.set_header(k, v)
        if self.gzipped:
            resp.vary = ["Accept-Encoding"]
            if "gzip" in (req.get_header("Accept-Encoding") or ""):
                resp.data, resp.etag = self.gzipped, self.etag + "-gz"
                resp.set_header("Content-Encoding", "gzip")
                return
        resp.data, resp.etag = self.body, self.etag


def etag_of(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=12).hexdigest()


class _Flight:
    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Rendered | None = None
        self.error: BaseException | None = None


class RenderCache:
    """Keyed by path and query; entries live `ttl` seconds; at most `size` entries (least recent go)."""

    def __init__(
        self, ttl: float = 10.0, size: int = 2048, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, Rendered]] = OrderedDict()
        self._flights: dict[str, _Flight] = {}
        self.builds = 0  # how many times a build ran (the tests and the benchmark read it)
        self.hits = 0

    def get(self, key: str, build: Callable[[], Rendered]) -> Rendered:
        if self.ttl <= 0:
            self.builds += 1
            return build()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] > self.clock():
                self._entries.move_to_end(key)
                self.hits += 1
                return hit[1]
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            assert flight.value is not None
            return flight.value
        try:
            self.builds += 1
            value = build()
            flight.value = value
            with self._lock:
                self._entries[key] = (self.clock() + self.ttl, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
            return value
        except BaseException as exc:
            flight.error = exc  # the waiters see the same error; the next request tries again
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
