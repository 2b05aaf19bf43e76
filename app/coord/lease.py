"""Leader election behind one small interface, run by `Elector` the way client-go's is.

A holder renews every `retry_period`; if it cannot renew for `renew_deadline` it stops
leading *before* its lease (`lease_duration`) can pass to another, so two leaders never
act at once. A standby tries every `retry_period` and takes over once the lease expires.
The Kubernetes Lease implementation (app.controller) plugs into the same interface.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

log = logging.getLogger(__name__)


class Lease(Protocol):
    identity: str

    def try_acquire_or_renew(self) -> bool:
        """True when this identity holds the lease after the call."""
        ...

    def release(self) -> None: ...


class LocalLease:
    """The embedded default: one process, always the leader."""

    def __init__(self, identity: str = "local") -> None:
        self.identity = identity

    def try_acquire_or_renew(self) -> bool:
        return True

    def release(self) -> None:
        pass


_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLease:
    def __init__(self, client: redis.Redis, name: str, identity: str, lease_duration: float = 15.0) -> None:
        self._r = client
        self.key = f"{name}:lease"
        self.identity = identity
        self.lease_ms = int(lease_duration * 1000)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def try_acquire_or_renew(self) -> bool:
        if self._r.set(self.key, self.identity, nx=True, px=self.lease_ms):
            return True
        return bool(self._renew(keys=[self.key], args=[self.identity, self.lease_ms]))

    def release(self) -> None:
        self._release(keys=[self.key], args=[self.identity])

    def holder(self) -> str | None:
        v = self._r.get(self.key)
        return v.decode() if isinstance(v, bytes) else v


class Elector:
    """Runs a Lease in a thread and calls back when leadership starts and stops."""

    def __init__(
        self,
        lease: Lease,
        on_started: Callable[[], None],
        on_stopped: Callable[[], None],
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lease = lease
        self.on_started, self.on_stopped = on_started, on_stopped
        self.renew_deadline, self.retry_period = renew_deadline, retry_period
        self._clock = clock
        self._leading = False
        self._last_renew = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        return self._leading

    def step(self) -> bool:
        """One round: try to acquire or renew; start or stop leading as the answer says.

        A lease store that answers "held by another" ends leadership at once; one that
        cannot be reached is given until `renew_deadline` (shorter than the lease) to recover.
        """
        denied = False
        try:
            ok = self.lease.try_acquire_or_renew()
            denied = not ok
        except Exception as exc:
            log.warning("lease %s: cannot reach the lease store: %s", self.lease.identity, exc)
            ok = False
        now = self._clock()
        if ok:
            self._last_renew = now
            if not self._leading:
                self._leading = True
                log.info("lease: %s started leading", self.lease.identity)
                self.on_started()
        elif self._leading and (denied or now - self._last_renew >= self.renew_deadline):
            self._leading = False
            log.warning("lease: %s stopped leading", self.lease.identity)
            self.on_stopped()
        return self._leading

    def run(self) -> None:
        while not self._stop.is_set():
            self.step()
            self._stop.wait(self.retry_period)
        if self._leading:
            self._leading = False
            self.on_stopped()
            try:
                self.lease.release()
            except Exception:
                log.warning("lease: release failed", exc_info=True)

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="lease-elector", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
