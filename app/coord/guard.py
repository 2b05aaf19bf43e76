"""'Never two checks of one monitor at once, and never a second one queued behind the first.'

The scheduler acquires the guard before it enqueues and gets a token; the message carries
it (a slot's worth of marks at once with `acquire_many`: one round trip, the same rule per
mark). The worker re-arms the mark with that token when it starts the check (the TTL then
counts from the start, not from the enqueue, and the mark names the worker holding it),
extends it while it retries or waits for the database, and releases it when done. Only
the token's owner may extend or release: a message that waited past its mark's TTL finds
another token there and skips its check instead of running beside the newer one.

A mark whose holder stopped beating (see `liveness`) is free: the scheduler may take it at
once, and `orphans` lists such marks so the leader can re-check those monitors within
seconds instead of waiting out the TTL.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

import redis

from app.coord.liveness import Liveness


def new_token() -> str:
    return uuid.uuid4().hex[:16]


class InflightGuard(Protocol):
    def acquire(self, uid: str, ttl_s: float) -> str | None:
        """A token when the monitor was free (or its holder dead), None when a check is queued or running."""
        ...

    def acquire_many(self, uids: list[str], ttls: list[float]) -> list[str | None]:
        """`acquire` for a slot's worth of monitors at once (one round trip): an answer per uid, in order."""
        ...

    def rearm(self, uid: str, token: str, ttl_s: float, holder: str) -> bool:
        """The worker starts the check: still ours? Then hold it for `ttl_s` more, in `holder`'s name."""
        ...

    def extend(self, uid: str, token: str, ttl_s: float) -> bool: ...

    def park(self, uid: str, token: str, ttl_s: float) -> bool:
        """The check goes back to the queue (a retry): keep the mark for `ttl_s`, held by no worker."""
        ...

    def release(self, uid: str, token: str) -> None: ...

    def orphans(self) -> list[str]:
        """Monitors whose running check belongs to a worker that died."""
        ...

    # -- a batch's marks, each as its single-mark counterpart, in one call (one Redis round trip) --
    def rearm_many(self, marks: list[tuple[str, str, float]], holder: str) -> list[bool]:
        """`rearm` for each (uid, token, ttl_s); one answer per mark, in order."""
        ...

    def extend_many(self, marks: list[tuple[str, str]], ttl_s: float) -> None:
        """`extend` for each (uid, token)."""
        ...

    def release_many(self, marks: list[tuple[str, str]]) -> None:
        """`release` for each (uid, token)."""
        ...


class LocalGuard:
    """One process: marks in a dict. Every holder is this process, so none is ever dead."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._marks: dict[str, tuple[str, str, float]] = {}  # uid -> (token, holder, until)
        self._lock = threading.Lock()
        self._clock = clock

    def acquire(self, uid: str, ttl_s: float) -> str | None:
        now = self._clock()
        with self._lock:
            mark = self._marks.get(uid)
            if mark is not None and mark[2] > now:
                return None
            token = new_token()
            self._marks[uid] = (token, "", now + ttl_s)
            return token

    def acquire_many(self, uids: list[str], ttls: list[float]) -> list[str | None]:
        return [self.acquire(uid, ttl) for uid, ttl in zip(uids, ttls, strict=True)]

    def _owned(self, uid: str, token: str) -> bool:
        mark = self._marks.get(uid)
        return mark is not None and mark[0] == token and mark[2] > self._clock()

    def rearm(self, uid: str, token: str, ttl_s: float, holder: str) -> bool:
        with self._lock:
            if not self._owned(uid, token):
                return False
            mark = self._marks[uid]
            if mark[1] and mark[1] != holder:
                return False  # the same message delivered twice: the first copy runs it
            self._marks[uid] = (token, holder, self._clock() + ttl_s)
            return True

    def extend(self, uid: str, token: str, ttl_s: float) -> bool:
        with self._lock:
            if not self._owned(uid, token):
                return False
            mark = self._marks[uid]
            self._marks[uid] = (token, mark[1], self._clock() + ttl_s)
            return True

    def park(self, uid: str, token: str, ttl_s: float) -> bool:
        with self._lock:
            if not self._owned(uid, token):
                return False
            self._marks[uid] = (token, "", self._clock() + ttl_s)
            return True

    def release(self, uid: str, token: str) -> None:
        with self._lock:
            mark = self._marks.get(uid)
            if mark is not None and mark[0] == token:
                del self._marks[uid]

    def orphans(self) -> list[str]:
        return []

    # -- a batch's marks ------------------------------------------------------------------------
    def rearm_many(self, marks: list[tuple[str, str, float]], holder: str) -> list[bool]:
        return [self.rearm(uid, token, ttl_s, holder) for uid, token, ttl_s in marks]

    def extend_many(self, marks: list[tuple[str, str]], ttl_s: float) -> None:
        for uid, token in marks:
            self.extend(uid, token, ttl_s)

    def release_many(self, marks: list[tuple[str, str]]) -> None:
        for uid, token in marks:
            self.release(uid, token)


# KEYS[1] mark; ARGV token, ttl ms, alive-key prefix. A mark "token|holder" whose holder is
# not alive is free.
_ACQUIRE = """
local v = redis.call('GET', KEYS[1])
if v then
  local holder = string.match(v, '|(.*)$')
  if holder == nil or holder == '' or redis.call('EXISTS', ARGV[3] .. holder) == 1 then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|', 'PX', ARGV[2])
return 1
"""
# KEYS the marks; ARGV alive-key prefix, then a token per mark, then a ttl (ms) per mark. The
# same rule as _ACQUIRE for each mark in turn; an array of 1 (taken) or 0 (held), in order.
_ACQUIRE_MANY = """
local n = #KEYS
local out = {}
for i = 1, n do
  local free = true
  local v = redis.call('GET', KEYS[i])
  if v then
    local holder = string.match(v, '|(.*)$')
    if holder == nil or holder == '' or redis.call('EXISTS', ARGV[1] .. holder) == 1 then
      free = false
    end
  end
  if free then
    redis.call('SET', KEYS[i], ARGV[i + 1] .. '|', 'PX', ARGV[n + i + 1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""
# KEYS[1] mark, KEYS[2] the holder's set of marks; ARGV token, ttl ms, holder, uid, alive prefix
_REARM = """
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '|' then return 0 end
local holder = string.sub(v, string.len(ARGV[1]) + 2)
if holder ~= '' and holder ~= ARGV[3] and redis.call('EXISTS', ARGV[5] .. holder) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[3], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
return 1
"""
_EXTEND = """
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '|' then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
# KEYS[1] mark; ARGV token, holder-set prefix, uid, ttl ms
_PARK = """
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '|' then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. '|', 'PX', ARGV[4])
local holder = string.sub(v, string.len(ARGV[1]) + 2)
if holder ~= '' then redis.call('SREM', ARGV[2] .. holder, ARGV[3]) end
return 1
"""
# KEYS[1] mark; ARGV token, holder-set prefix, uid
_RELEASE = """
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '|' then return 0 end
redis.call('DEL', KEYS[1])
local holder = string.sub(v, string.len(ARGV[1]) + 2)
if holder ~= '' then redis.call('SREM', ARGV[2] .. holder, ARGV[3]) end
return 1
"""


class RedisGuard:
    def __init__(self, client: redis.Redis, prefix: str = "kubekuma:inflight:",
                 liveness: Liveness | None = None) -> None:  # fmt: skip
        self._r = client
        self._prefix = prefix
        self._held = prefix + "held:"  # a set per holder: the marks it re-armed
        self._live = liveness
        self._alive_prefix = liveness.key_prefix if liveness is not None else prefix + "alive:"
        self._acquire = client.register_script(_ACQUIRE)
        self._acquire_many = client.register_script(_ACQUIRE_MANY)
        self._rearm = client.register_script(_REARM)
        self._extend = client.register_script(_EXTEND)
        self._release = client.register_script(_RELEASE)
        self._park = client.register_script(_PARK)

    def acquire(self, uid: str, ttl_s: float) -> str | None:
        token = new_token()
        ok = self._acquire(
            keys=[self._prefix + uid], args=[token, max(1, int(ttl_s * 1000)), self._alive_prefix]
        )
        return token if ok else None

    def acquire_many(self, uids: list[str], ttls: list[float]) -> list[str | None]:
        if not uids:
            return []
        tokens = [new_token() for _ in uids]
        ms = [max(1, int(t * 1000)) for t in ttls]
        if len(ms) != len(uids):
            raise ValueError("acquire_many needs one ttl per uid")
        taken = self._acquire_many(
            keys=[self._prefix + u for u in uids], args=[self._alive_prefix, *tokens, *ms]
        )
        return [tok if ok else None for tok, ok in zip(tokens, taken, strict=True)]

    def rearm(self, uid: str, token: str, ttl_s: float, holder: str) -> bool:
        ttl = max(1, int(ttl_s * 1000))
        keys = [self._prefix + uid, self._held + holder]
        return bool(self._rearm(keys=keys, args=[token, ttl, holder, uid, self._alive_prefix]))

    def extend(self, uid: str, token: str, ttl_s: float) -> bool:
        return bool(self._extend(keys=[self._prefix + uid], args=[token, max(1, int(ttl_s * 1000))]))

    def park(self, uid: str, token: str, ttl_s: float) -> bool:
        return bool(
            self._park(keys=[self._prefix + uid], args=[token, self._held, uid, max(1, int(ttl_s * 1000))])
        )

    def release(self, uid: str, token: str) -> None:
        self._release(keys=[self._prefix + uid], args=[token, self._held, uid])

    def orphans(self) -> list[str]:
        """Monitors held by workers that stopped beating; their sets are emptied as they are read."""
        if self._live is None:
            return []
        out: list[str] = []
        for holder in self._live.dead():
            key = self._held + holder
            out.extend(m.decode() if isinstance(m, bytes) else m for m in self._r.smembers(key))
            self._r.delete(key)
            self._live.forget(holder)
        return out

    # -- a batch's marks: the single-mark scripts, pipelined (one round trip, each mark atomic) ----
    def rearm_many(self, marks: list[tuple[str, str, float]], holder: str) -> list[bool]:
        if not marks:
            return []
        pipe = self._r.pipeline(transaction=False)
        held = self._held + holder
        for uid, token, ttl_s in marks:
            args: list[str | int] = [token, max(1, int(ttl_s * 1000)), holder, uid, self._alive_prefix]
            self._rearm(keys=[self._prefix + uid, held], args=args, client=pipe)
        return [bool(ok) for ok in pipe.execute()]

    def extend_many(self, marks: list[tuple[str, str]], ttl_s: float) -> None:
        if not marks:
            return
        pipe = self._r.pipeline(transaction=False)
        ttl = max(1, int(ttl_s * 1000))
        for uid, token in marks:
            self._extend(keys=[self._prefix + uid], args=[token, ttl], client=pipe)
        pipe.execute()

    def release_many(self, marks: list[tuple[str, str]]) -> None:
        if not marks:
            return
        pipe = self._r.pipeline(transaction=False)
        for uid, token in marks:
            self._release(keys=[self._prefix + uid], args=[token, self._held, uid], client=pipe)
        pipe.execute()
