"""check_monitor: run one check, record it, and chain on only when the state changed.

One message per scheduled check. The actor loads the monitor, runs its checker, lets the
pure `next_state` decide, and writes heartbeat, state, rollups and (on a change) the
transition row in one transaction. While PENDING it schedules its own retry after
`retryInterval`, holding the in-flight guard so the regular schedule does not double up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.actors.runtime import Runtime
from app.alerting.state import RetryPolicy, next_state
from app.checkers import CheckContext, run_check
from app.model import CheckResult, MonitorSnapshot, State
from app.store import Recorded

log = logging.getLogger(__name__)

GUARD_MARGIN_S = 10.0
RECORD_DEADLINE_S = 60.0


def guard_ttl(timeout: float) -> float:
    """How long a queued-or-running mark lives: long enough for a check, short enough to self-heal."""
    return timeout + GUARD_MARGIN_S


def record_with_retry(
    rt: Runtime, uid: str, result: CheckResult, decide: Callable[..., Any], now: datetime
) -> Recorded | None:
    """A database outage makes the worker wait and retry (bounded), not drop the result."""
    delay, deadline = 0.2, time.monotonic() + RECORD_DEADLINE_S
    while True:
        try:
            return rt.store.checks.record(uid, result, decide, now)
        except Exception as exc:
            if time.monotonic() + delay > deadline:
                log.error("giving up recording a check of %s after %.0fs: %s", uid, RECORD_DEADLINE_S, exc)
                return None
            log.warning("recording a check of %s failed, retrying in %.1fs: %s", uid, delay, exc)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def check_monitor(
    rt: Runtime,
    uid: str,
    generation: int,
    scheduled_at: float,
    on_transition: Callable[[int], object],
    retry_later: Callable[[str, int, float], None],
) -> str | None:
    """Returns the new state (for tests and logs), or None when the monitor is gone or disabled."""
    entry = rt.catalog.monitor(uid)
    if entry is None or not entry.spec.enabled:
        rt.guard.release(uid)
        return None
    spec = entry.spec
    ctx = CheckContext(
        uid=uid,
        name=entry.name,
        namespace=entry.namespace,
        secrets=rt.secrets,
        session=rt.session(),
        clock=rt.clock,
        kube=rt.kube,
        store=rt.store,
    )
    result = run_check(spec, ctx)
    if result.details.get("noop"):  # a push monitor whose deadline has not passed
        rt.guard.release(uid)
        return None
    now = rt.clock()
    maintenance = rt.in_maintenance(entry, now)
    policy = RetryPolicy(retries=spec.retries, upside_down=spec.upsideDown)

    def decide(prev: MonitorSnapshot | None) -> Any:
        return next_state(prev, result, policy, maintenance, now)

    recorded = record_with_retry(rt, uid, result, decide, now)
    if recorded is None:
        rt.guard.release(uid)
        return None
    state = recorded.decision.snapshot.state
    if recorded.transition_id is not None:
        on_transition(recorded.transition_id)
    if state == State.PENDING:
        wait = spec.effective_retry_interval
        rt.guard.extend(uid, wait + guard_ttl(spec.timeout))
        retry_later(uid, entry.generation, wait)
    else:
        rt.guard.release(uid)
    lag = now.timestamp() - scheduled_at if scheduled_at else 0.0
    log.debug("checked %s: %s in %s ms (lag %.3fs)", entry.key, state, result.latency_ms, lag)
    return state.value
