"""handle_transition: route each state change once, in the order the checks recorded them.

The incident was opened or closed by the check itself; what is left here is to tell
people. Dramatiq delivers at least once and a message can be lost or late, so the row is
the truth: a message for transition N handles every unfinished transition of that monitor
up to N, oldest first, each under its own claim. A DOWN handled after its incident already
closed is `superseded`: its notices are recorded as such and nothing stale goes out (the
recovery then goes only to providers that may have heard of the outage).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.actors.runtime import Runtime
from app.model import TransitionStatus
from app.store import IncidentView, TransitionView

log = logging.getLogger(__name__)

LEASE_S = 30.0  # longer than handling takes (the actor's time limit is 20 s)
MAX_ATTEMPTS = 8

# Called with each claimed transition and the incident it opened or closed (if any). The
# alerting pipeline (flapping, routing, suppression, deliveries) plugs in here.
TransitionHook = Callable[[Runtime, TransitionView, IncidentView | None], None]


class Busy(Exception):
    """An earlier transition of the same monitor is being handled by a live worker right now."""


def superseded(t: TransitionView, incident: IncidentView | None) -> str:
    """Why a transition's news is stale by the time it is handled, or ''."""
    ending = incident.ending() if incident is not None and t.event == "down" else ""
    return f"incident {t.incident_id} was already over ({ending}) when its DOWN was handled" if ending else ""


def handle_transition(rt: Runtime, transition_id: int, hooks: list[TransitionHook]) -> int:
    """Handle the monitor's unfinished transitions up to `transition_id`. Returns how many.

    Raises Busy when an earlier one is claimed by a live worker (the caller tries again shortly)."""
    first = rt.store.transitions.get(transition_id)
    if first is None or first.status != TransitionStatus.PENDING:
        return 0
    done = 0
    while True:
        claim = rt.store.transitions.next_for(
            first.monitor_uid,
            transition_id,
            rt.identity,
            rt.clock(),
            LEASE_S,
            rt.liveness.alive,
            MAX_ATTEMPTS,
        )
        if claim.gave_up is not None:
            g = claim.gave_up
            log.error("transition %d of %s: %s", g.id, g.monitor_uid, g.note)
            continue
        if claim.busy:
            raise Busy(first.monitor_uid)
        if claim.transition is None:
            return done
        _handle_one(rt, claim.transition, hooks)
        done += 1


def _handle_one(rt: Runtime, t: TransitionView, hooks: list[TransitionHook]) -> None:
    assert t.token is not None
    try:
        incident = rt.store.incidents.get(t.incident_id) if t.incident_id is not None else None
        stale = superseded(t, incident)
        for hook in hooks:
            hook(rt, t, incident)
        status = TransitionStatus.SUPERSEDED if stale else TransitionStatus.HANDLED
        if not rt.store.transitions.finish(t.id, t.token, status, rt.clock(), stale):
            log.warning("transition %d: the claim was retaken while it was handled", t.id)
    except Exception as exc:
        rt.store.transitions.release(t.id, t.token, f"{type(exc).__name__}: {exc}")
        raise
    entry = rt.catalog.monitor(t.monitor_uid)
    who = entry.key if entry else t.monitor_uid
    log.info("monitor %s: %s -> %s (%s)%s", who, t.from_state or "new", t.to_state, t.reason,
             f"; {stale}" if stale else "")  # fmt: skip
