"""handle_transition: claim a transition row once, open or close the incident, then route.

Dramatiq delivers at least once, so the claim is what makes this exactly-once: a row
already handled (or claimed by a live worker) is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.actors.runtime import Runtime
from app.model import State
from app.store import IncidentView, TransitionView

log = logging.getLogger(__name__)

# Called after the incident bookkeeping with the claimed transition and the incident it
# opened or closed. The alerting pipeline (routing, suppression, deliveries) plugs in here.
TransitionHook = Callable[[Runtime, TransitionView, IncidentView | None], None]


def handle_transition(rt: Runtime, transition_id: int, hooks: list[TransitionHook]) -> bool:
    now = rt.clock()
    t = rt.store.incidents.claim_transition(transition_id, rt.identity, now)
    if t is None:
        return False
    incident = None
    if t.to_state == State.DOWN:
        incident = rt.store.incidents.open_incident(t.monitor_uid, t.at, t.reason, t.failure, t.id)
    elif t.from_state == State.DOWN:
        incident = rt.store.incidents.close_incident(t.monitor_uid, t.at, t.id)
    for hook in hooks:
        hook(rt, t, incident)
    rt.store.incidents.mark_handled(t.id, rt.clock())
    entry = rt.catalog.monitor(t.monitor_uid)
    who = entry.key if entry else t.monitor_uid
    log.info("monitor %s: %s -> %s (%s)", who, t.from_state or "new", t.to_state, t.reason)
    return True
