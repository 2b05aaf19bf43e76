"""check_monitor: run one check, record it, and chain on only when the state changed.

One message per scheduled check, carrying the in-flight guard's token. The actor re-arms
the guard with it (a message that waited past its mark finds a newer token and skips),
loads the monitor, runs its checker, lets the pure `next_state` decide, and writes
heartbeat, state, incident, rollups and (on a change) the transition row in one
transaction. While PENDING it schedules its own retry after `retryInterval`, handing the
mark back to the queue so the regular schedule does not double up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from app.actors.runtime import Runtime
from app.alerting.state import RetryPolicy, next_state
from app.checkers import CheckContext, run_check
from app.model import CheckResult, MonitorSnapshot, State
from app.store import Recorded, is_outage

log = logging.getLogger(__name__)
T = TypeVar("T")

GUARD_MARGIN_S = 10.0
RECORD_DEADLINE_S = 60.0  # how long a database outage may hold one result before it is dropped


def guard_ttl(timeout: float) -> float:
    """How long a queued-or-running mark lives: long enough for a check, short enough to self-heal."""
    return timeout + GUARD_MARGIN_S


def time_limit_s(timeout: float) -> float:
    """The actor's time limit: the check, then the database retries, then a margin."""
    return timeout + RECORD_DEADLINE_S + GUARD_MARGIN_S


def record_with_retry(
    rt: Runtime, uid: str, result: CheckResult, decide: Callable[..., Any], now: datetime,
    keepalive: Callable[[], object] = lambda: None,
) -> Recorded | None:  # fmt: skip
    """A database outage makes the worker wait and retry (bounded), not drop the result; a result
    the database refuses is dropped at once (None), as retrying cannot change it."""
    try:
        return with_db_retry(
            f"a check of {uid}", lambda: rt.store.checks.record(uid, result, decide, now), keepalive
        )
    except Exception as exc:
        log.error("cannot record the check of %s, dropped: %s: %s", uid, type(exc).__name__, exc)
        return None


def with_db_retry(what: str, write: Callable[[], T], keepalive: Callable[[], object]) -> T | None:
    """`write()`, retried with backoff through a database outage for up to RECORD_DEADLINE_S (None
    when it never got through); `keepalive` runs before each retry so the guards outlive the outage.
    Any other error (the database refused the data: the same write fails again) is raised at once."""
    delay, deadline = 0.2, time.monotonic() + RECORD_DEADLINE_S
    while True:
        try:
            return write()
        except Exception as exc:
            if not is_outage(exc):
                raise
            if time.monotonic() + delay > deadline:
                log.error("giving up recording %s after %.0fs: %s", what, RECORD_DEADLINE_S, exc)
                return None
            log.warning("recording %s failed, retrying in %.1fs: %s", what, delay, exc)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
            try:
                keepalive()  # still ours: the mark must outlive the outage
            except Exception:
                pass


def check_context(rt: Runtime, entry: Any) -> CheckContext:
    """What a checker may use, for one monitor, on the calling thread (its HTTP session is per thread)."""
    return CheckContext(
        uid=entry.uid,
        name=entry.name,
        namespace=entry.namespace,
        secrets=rt.secrets,
        session=rt.session(),
        clock=rt.clock,
        kube=rt.kube,
        store=rt.store,
    )


def check_monitor(
    rt: Runtime,
    uid: str,
    generation: int,
    scheduled_at: float,
    on_transition: Callable[[int], object],
    retry_later: Callable[[str, int, float, str | None], None],
    token: str | None = None,
) -> str | None:
    """Returns the new state (for tests and logs), or None when nothing was recorded."""
    entry = rt.catalog.monitor(uid)
    timeout = entry.spec.timeout if entry is not None else 10.0
    guard = rt.guard

    def release() -> None:
        if token is not None:
            guard.release(uid, token)

    if token is not None and not guard.rearm(uid, token, guard_ttl(timeout), rt.identity):
        log.debug("check of %s skipped: a newer one holds the monitor", uid)
        return None
    if entry is None or not entry.spec.enabled:
        release()
        return None
    spec = entry.spec
    result = run_check(spec, check_context(rt, entry))
    if result.details.get("noop"):  # a push monitor whose deadline has not passed
        release()
        return None
    now = rt.clock()
    maintenance = rt.in_maintenance(entry, now)
    policy = RetryPolicy(retries=spec.retries, upside_down=spec.upsideDown)

    def decide(prev: MonitorSnapshot | None) -> Any:
        return next_state(prev, result, policy, maintenance, now)

    def keepalive() -> None:
        if token is not None:
            guard.extend(uid, token, guard_ttl(timeout) + 5.0)

    recorded = record_with_retry(rt, uid, result, decide, now, keepalive)
    if recorded is None:
        release()
        return None
    state = recorded.decision.snapshot.state
    if recorded.transition_id is not None:
        try:
            on_transition(recorded.transition_id)
        except Exception as exc:  # the transition sweeper sends it within seconds
            log.warning("cannot enqueue transition %d of %s: %s", recorded.transition_id, entry.key, exc)
    if state == State.PENDING:
        wait = spec.effective_retry_interval
        if token is not None:
            guard.park(uid, token, wait + guard_ttl(spec.timeout))
        try:
            retry_later(uid, entry.generation, wait, token)
        except Exception as exc:  # the mark expires and the schedule checks it again
            log.warning("cannot schedule the retry of %s: %s", entry.key, exc)
    else:
        release()
    lag = now.timestamp() - scheduled_at if scheduled_at else 0.0
    log.debug("checked %s: %s in %s ms (lag %.3fs)", entry.key, state, result.latency_ms, lag)
    return state.value
