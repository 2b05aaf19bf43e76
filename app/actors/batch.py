"""check_batch: a slot's worth of due checks, run together and recorded in one transaction.

The batch does what `check_monitor` does for one check, with the per-check round trips
shared: the guards of every item are re-armed in one call (an item whose token is stale
is skipped: a newer check holds its monitor), the checks run concurrently on the worker's
one check pool (app/actors/pool.py), the pure `next_state` decides each result, and
`record_many` writes them all in one transaction, retried through a database outage
with the guards kept alive by one extend call. Only the items whose state changed send
`handle_transition`; a PENDING item parks its mark and schedules its own retry as
`check_monitor` does; every other mark is released in one call.

A worker that dies mid-batch loses that batch's checks only: their marks expire (or are
listed as orphans of the dead worker and checked again at once) and the next slot checks
them again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from app.actors.checks import check_context, guard_ttl, with_db_retry
from app.actors.pool import START_WITHIN_S
from app.actors.runtime import Runtime
from app.alerting.state import RetryPolicy, next_state
from app.catalog import MonitorEntry
from app.checkers import run_check
from app.model import CheckResult, Decision, FailureClass, MonitorSnapshot, State
from app.store import CheckToRecord, Recorded

log = logging.getLogger(__name__)

KEEPALIVE_EXTRA_S = 5.0


@dataclass(slots=True)
class Due:
    """One item of the batch that is still ours to check."""

    uid: str
    token: str | None
    entry: MonitorEntry

    @property
    def timeout(self) -> float:
        return self.entry.spec.timeout


def batch_ttl(entries: Sequence[MonitorEntry | None]) -> float:
    """Every mark of a batch lives as long as its slowest check may take: a quick check's result
    is recorded with the others, and its mark must not lapse before (its next slot would then
    check it again and the older result could land after the newer one)."""
    longest = max((e.spec.timeout for e in entries if e is not None), default=10.0)
    return guard_ttl(longest) + START_WITHIN_S


def claim(rt: Runtime, items: Sequence[Sequence[Any]]) -> tuple[list[Due], list[tuple[str, str]]]:
    """Re-arm every item's guard in one call: the items still ours and enabled, and the marks to
    release (ours, but the monitor is gone or paused). Items whose token is stale are dropped."""
    entries = [rt.catalog.monitor(str(item[0])) for item in items]
    ttl = batch_ttl(entries)
    marks = [(str(item[0]), str(item[3]), ttl) for item in items if item[3] is not None]
    armed = iter(rt.guard.rearm_many(marks, rt.identity)) if marks else iter(())
    due: list[Due] = []
    release: list[tuple[str, str]] = []
    for item, entry in zip(items, entries, strict=True):
        uid, token = str(item[0]), (str(item[3]) if item[3] is not None else None)
        if token is not None and not next(armed):
            log.debug("check of %s skipped: a newer one holds the monitor", uid)
            continue
        if entry is None or not entry.spec.enabled:
            if token is not None:
                release.append((uid, token))
            continue
        due.append(Due(uid, token, entry))
    return due, release


def check_job(rt: Runtime, entry: MonitorEntry) -> Callable[[], tuple[CheckResult, datetime]]:
    """The check of one monitor as a pool job: its result and when it came."""

    def run() -> tuple[CheckResult, datetime]:
        try:
            result = run_check(entry.spec, check_context(rt, entry))
        except Exception as exc:  # run_check answers checker bugs itself; this is the session or context
            result = CheckResult.down(FailureClass.ERROR, f"internal error: {type(exc).__name__}: {exc}")
        return result, rt.clock()

    return run


def gave_up(rt: Runtime, due: Sequence[Due]) -> Callable[[int, float], tuple[CheckResult, datetime]]:
    def answer(i: int, ran_s: float) -> tuple[CheckResult, datetime]:
        timeout = due[i].timeout
        reason = f"no answer within the {timeout:g}s timeout"
        return CheckResult.down(FailureClass.TIMEOUT, reason, round(ran_s * 1000, 2)), rt.clock()

    return answer


def decider(
    result: CheckResult, policy: RetryPolicy, maintenance: bool, now: datetime
) -> Callable[[MonitorSnapshot | None], Decision]:
    def decide(prev: MonitorSnapshot | None) -> Decision:
        return next_state(prev, result, policy, maintenance, now)

    return decide


def check_batch(
    rt: Runtime,
    items: Sequence[Sequence[Any]],
    on_transition: Callable[[int], object],
    retry_later: Callable[[str, int, float, str | None], None],
) -> dict[str, str]:
    """The new state of each monitor recorded (for tests and logs); skipped ones are absent."""
    due, release = claim(rt, items)
    if not due:
        rt.guard.release_many(release)
        return {}
    outcomes = rt.pool.run_all([(check_job(rt, d.entry), d.timeout) for d in due], gave_up(rt, due))
    batch: list[CheckToRecord] = []
    recorded_due: list[Due] = []
    not_run = sum(1 for o in outcomes if o is None)
    if not_run:  # checks stuck in every pool thread (hanging resolvers, targets past their timeouts)
        log.warning(
            "%d of %d checks found no free check thread within %.0fs; their next slot checks them "
            "(KUBEKUMA_CHECK_POOL_THREADS=%d)", not_run, len(due), START_WITHIN_S, rt.pool.size,
        )  # fmt: skip
    for d, outcome in zip(due, outcomes, strict=True):
        # Not run (the pool was busy too long), or a push monitor whose deadline has not passed.
        if outcome is None or outcome[0].details.get("noop"):
            if d.token is not None:
                release.append((d.uid, d.token))
            continue
        result, now = outcome
        spec = d.entry.spec
        policy = RetryPolicy(retries=spec.retries, upside_down=spec.upsideDown)
        decide = decider(result, policy, rt.in_maintenance(d.entry, now), now)
        batch.append(CheckToRecord(d.uid, result, decide, now))
        recorded_due.append(d)
    held = [(d.uid, d.token) for d in recorded_due if d.token is not None]
    ttl = batch_ttl([d.entry for d in recorded_due]) + KEEPALIVE_EXTRA_S

    def keepalive() -> None:
        rt.guard.extend_many(held, ttl)

    answers = record(rt, batch, recorded_due, keepalive) if batch else []
    if answers is None:  # the database stayed away: the next slot checks them again
        rt.guard.release_many(release + held)
        return {}
    states: dict[str, str] = {}
    for d, rec in zip(recorded_due, answers, strict=True):
        state = after(rt, d, rec, release, on_transition, retry_later)
        if state is not None:
            states[d.uid] = state
    rt.guard.release_many(release)
    return states


def record(
    rt: Runtime, batch: list[CheckToRecord], due: Sequence[Due], keepalive: Callable[[], None]
) -> list[Recorded | None] | None:
    """The batch in one transaction, waited for through a database outage (None when the outage
    outlasted RECORD_DEADLINE_S). When the database refuses the batch's data instead, retrying it
    cannot help: its items are recorded one by one, and only an item refused alone is lost (its
    answer None, so its mark is released)."""
    try:
        return with_db_retry(f"a batch of {len(batch)} checks", partial(rt.store.checks.record_many, batch),
                             keepalive)  # fmt: skip
    except Exception as exc:
        if len(batch) == 1:
            dropped(due[0], exc)
            return [None]
        log.warning("the database refused a batch of %d checks (%s: %s); recording them one by one",
                    len(batch), type(exc).__name__, exc)  # fmt: skip
    answers: list[Recorded | None] = []
    for item, d in zip(batch, due, strict=True):
        try:
            one = with_db_retry(f"a check of {d.entry.key}", partial(rt.store.checks.record_many, [item]),
                                keepalive)  # fmt: skip
        except Exception as exc:
            dropped(d, exc)
            one = [None]
        if one is None:  # the database went away meanwhile and stayed away: the next slot checks the rest
            return answers + [None] * (len(batch) - len(answers))
        answers += one
    return answers


def dropped(d: Due, exc: Exception) -> None:
    log.error("cannot record the check of %s, dropped: %s: %s", d.entry.key, type(exc).__name__, exc)


def after(
    rt: Runtime,
    d: Due,
    rec: Recorded | None,
    release: list[tuple[str, str]],
    on_transition: Callable[[int], object],
    retry_later: Callable[[str, int, float, str | None], None],
) -> str | None:
    """Chain on from one recorded item: its transition, its retry while PENDING, else its release."""
    if rec is None:  # deleted while it was checked, or its result refused by the database
        if d.token is not None:
            release.append((d.uid, d.token))
        return None
    state = rec.decision.snapshot.state
    if rec.transition_id is not None:
        try:
            on_transition(rec.transition_id)
        except Exception as exc:  # the transition sweeper sends it within seconds
            log.warning("cannot enqueue transition %d of %s: %s", rec.transition_id, d.entry.key, exc)
    if state == State.PENDING:
        wait = d.entry.spec.effective_retry_interval
        if d.token is not None:
            rt.guard.park(d.uid, d.token, wait + guard_ttl(d.timeout))
        try:
            retry_later(d.uid, d.entry.generation, wait, d.token)
        except Exception as exc:  # the mark expires and the schedule checks it again
            log.warning("cannot schedule the retry of %s: %s", d.entry.key, exc)
    elif d.token is not None:
        release.append((d.uid, d.token))
    return state.value
