"""'Never a second check of a monitor queued while one is queued or running.'

The scheduler acquires the guard before it enqueues; the worker releases it after
recording the result. The mark carries a TTL just above what a check can take, so a
worker that dies holding it delays that monitor by one TTL at most.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis


class InflightGuard(Protocol):
    def acquire(self, uid: str, ttl_s: float) -> bool: ...

    def extend(self, uid: str, ttl_s: float) -> None: ...

    def release(self, uid: str) -> None: ...


class LocalGuard:
    def __init__(self, clock: object = time.monotonic) -> None:
        self._marks: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def acquire(self, uid: str, ttl_s: float) -> bool:
        now = self._clock()  # type: ignore[operator]
        with self._lock:
            until = self._marks.get(uid)
            if until is not None and until > now:
                return False
            self._marks[uid] = now + ttl_s
            return True

    def extend(self, uid: str, ttl_s: float) -> None:
        with self._lock:
            self._marks[uid] = self._clock() + ttl_s  # type: ignore[operator]

    def release(self, uid: str) -> None:
        with self._lock:
            self._marks.pop(uid, None)


class RedisGuard:
    def __init__(self, client: redis.Redis, prefix: str = "kubekuma:inflight:") -> None:
        self._r = client
        self._prefix = prefix

    def acquire(self, uid: str, ttl_s: float) -> bool:
        return bool(self._r.set(self._prefix + uid, b"1", nx=True, px=max(1, int(ttl_s * 1000))))

    def extend(self, uid: str, ttl_s: float) -> None:
        self._r.set(self._prefix + uid, b"1", px=max(1, int(ttl_s * 1000)))

    def release(self, uid: str) -> None:
        self._r.delete(self._prefix + uid)
