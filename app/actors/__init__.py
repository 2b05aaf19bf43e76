"""Dramatiq actors, declared on a given broker with a given Runtime (no global state).

`check_monitor` (one check) and `check_batch` (a slot's worth of checks, run concurrently on
the process's check pool) run on the `checks` queue with no retries and a time limit that
covers the checks and the database retries after them; `handle_transition` runs on its own
`transitions` queue with bounded retries, so neither slow checks nor a hanging provider
(whose deliveries wait on `alerts`) hold up incident news.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dramatiq

from app.actors import batch, checks, transitions
from app.actors.broker import CHECK_QUEUE, TRANSITION_QUEUE
from app.actors.checks import time_limit_s
from app.actors.runtime import Runtime
from app.actors.transitions import Busy, TransitionHook

# One due check in a batch message: uid, generation, planned unix time, guard token.
BatchItem = tuple[str, int, float, str | None]


@dataclass
class Actors:
    broker: dramatiq.Broker
    runtime: Runtime
    check_monitor: dramatiq.Actor
    handle_transition: dramatiq.Actor
    check_batch: dramatiq.Actor
    hooks: list[TransitionHook] = field(default_factory=list)
    extra: dict[str, dramatiq.Actor] = field(default_factory=dict)
    # Jobs for the scheduler's `periodic` list: (name, every seconds, function); alerting adds its own.
    periodic: list[tuple[str, float, Callable[[], Any]]] = field(default_factory=list)

    def enqueue_check(
        self, uid: str, generation: int, scheduled_at: float, timeout: float, delay_s: float = 0,
        token: str | None = None,
    ) -> None:  # fmt: skip
        self.check_monitor.send_with_options(
            args=(uid, generation, scheduled_at, token),
            time_limit=int(time_limit_s(timeout) * 1000),
            delay=int(delay_s * 1000) if delay_s else None,
        )

    def enqueue_batch(self, items: list[BatchItem], timeout: float, delay_s: float = 0) -> None:
        """One message for a slot's worth of due monitors; `timeout` is the longest of theirs."""
        self.check_batch.send_with_options(
            args=([list(i) for i in items],),
            time_limit=int(time_limit_s(timeout) * 1000),
            delay=int(delay_s * 1000) if delay_s else None,
        )


def register_actors(
    broker: dramatiq.Broker, rt: Runtime, hooks: list[TransitionHook] | None = None
) -> Actors:
    hook_list: list[TransitionHook] = list(hooks or [])
    holder: dict[str, Actors] = {}

    def retry_later(u: str, gen: int, wait: float, tok: str | None) -> None:
        entry = rt.catalog.monitor(u)
        timeout = entry.spec.timeout if entry else 10.0
        holder["a"].enqueue_check(u, gen, rt.clock().timestamp() + wait, timeout, delay_s=wait, token=tok)

    def on_transition(tid: int) -> None:
        holder["a"].handle_transition.send(tid)

    def _check(uid: str, generation: int, scheduled_at: float, token: str | None = None) -> None:
        checks.check_monitor(rt, uid, generation, scheduled_at, on_transition, retry_later, token=token)

    def _batch(items: list[list[Any]]) -> None:
        batch.check_batch(rt, items, on_transition=on_transition, retry_later=retry_later)

    def _transition(transition_id: int) -> None:
        try:
            transitions.handle_transition(rt, transition_id, hook_list)
        except Busy:  # an earlier one of the same monitor is in hand: look again in a moment
            holder["a"].handle_transition.send_with_options(args=(transition_id,), delay=300)

    check_actor = dramatiq.actor(
        actor_name="check_monitor",
        queue_name=CHECK_QUEUE,
        broker=broker,
        max_retries=0,
        time_limit=int(time_limit_s(300) * 1000),  # each message sets its own; this is the cap
        max_age=3_600_000,
    )(_check)
    transition_actor = dramatiq.actor(
        actor_name="handle_transition",
        queue_name=TRANSITION_QUEUE,
        broker=broker,
        max_retries=transitions.MAX_ATTEMPTS,
        min_backoff=500,
        max_backoff=15_000,
        time_limit=20_000,
    )(_transition)
    batch_actor = dramatiq.actor(
        actor_name="check_batch",
        queue_name=CHECK_QUEUE,
        broker=broker,
        max_retries=0,
        time_limit=int(time_limit_s(300) * 1000),
        max_age=3_600_000,
    )(_batch)
    acts = Actors(broker, rt, check_actor, transition_actor, batch_actor, hook_list)
    holder["a"] = acts
    return acts


__all__ = ["Actors", "BatchItem", "Runtime", "register_actors"]
