"""Which worker processes are alive: each beats every second; a missed beat or three means dead.

Claims on transitions and deliveries and the in-flight marks of running checks name the
process that holds them; with this, a claim whose holder was SIGKILLed is retaken within
seconds rather than after a lease measured for the slowest honest attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis

log = logging.getLogger(__name__)

BEAT_EVERY_S = 1.0
DEAD_AFTER_S = 4.0


class Liveness(Protocol):
    key_prefix: str

    def beat(self, identity: str) -> None: ...

    def alive(self, identity: str) -> bool: ...

    def dead(self) -> list[str]:
        """Processes that beat once and stopped."""
        ...

    def forget(self, identity: str) -> None: ...


class LocalLiveness:
    """One process (the embedded default): alive is whoever beat here lately; a holder named by a
    previous run of the process (another pid) is dead."""

    key_prefix = ""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._beats: dict[str, float] = {}
        self._clock = clock

    def beat(self, identity: str) -> None:
        self._beats[identity] = self._clock()

    def alive(self, identity: str) -> bool:
        at = self._beats.get(identity)
        return at is not None and self._clock() - at < DEAD_AFTER_S

    def dead(self) -> list[str]:
        return [i for i in list(self._beats) if not self.alive(i)]

    def forget(self, identity: str) -> None:
        self._beats.pop(identity, None)


class RedisLiveness:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._r = client
        self.key_prefix = prefix + "alive:"
        self._members = prefix + "workers"

    def beat(self, identity: str) -> None:
        pipe = self._r.pipeline(transaction=False)
        pipe.set(self.key_prefix + identity, b"1", px=int(DEAD_AFTER_S * 1000))
        pipe.sadd(self._members, identity)
        pipe.execute()

    def alive(self, identity: str) -> bool:
        return bool(identity) and bool(self._r.exists(self.key_prefix + identity))

    def dead(self) -> list[str]:
        members = [m.decode() if isinstance(m, bytes) else m for m in self._r.smembers(self._members)]
        if not members:
            return []
        pipe = self._r.pipeline(transaction=False)
        for m in members:
            pipe.exists(self.key_prefix + m)
        return [m for m, up in zip(members, pipe.execute(), strict=True) if not up]

    def forget(self, identity: str) -> None:
        self._r.srem(self._members, identity)


def start_beating(liveness: Liveness, identity: str, stop: threading.Event) -> threading.Thread:
    """Beat until `stop`; a failed beat (Redis down) is logged and tried again next second."""

    def loop() -> None:
        while True:
            try:
                liveness.beat(identity)
            except Exception as exc:
                log.warning("liveness: cannot beat (%s); retrying", exc)
            if stop.wait(BEAT_EVERY_S):
                return

    t = threading.Thread(target=loop, name="liveness", daemon=True)
    t.start()
    return t
