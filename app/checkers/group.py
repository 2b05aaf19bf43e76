"""Group checks: a monitor whose state follows its members by a rule.

Members are the monitors its label selector picks (nested groups included); their current
states are read from the store, read-only, at check time. `allUp` is UP while no member is
DOWN, `anyUp` while one member is UP, `percent` while at least `minPercent` of the members
with a decided state are UP. Members PENDING (never checked, or failing within their
retries) or in MAINTENANCE are left out of the count. A nested group's state is one of its
own checks old, so a change travels up one group level per interval.
"""

from __future__ import annotations

from typing import Any

from app.checkers.base import CheckContext, register
from app.model import CheckResult, FailureClass, State
from app.resources.groups import MonitorView, describe_cycle, members, on_cycle, view
from app.resources.monitor import MonitorSpec, MonitorType
from app.resources.services import GroupSpec


def verdict(rule: GroupSpec, states: dict[str, str]) -> tuple[bool, str, dict[str, Any]]:
    """(ok, reason, details) of a group from its members' states by name; pure."""
    up = sorted(k for k, s in states.items() if s == State.UP)
    down = sorted(k for k, s in states.items() if s == State.DOWN)
    other = sorted(k for k, s in states.items() if s not in (State.UP, State.DOWN))
    details: dict[str, Any] = {
        "up": len(up),
        "down": len(down),
        "undecided": len(other),
        "downMembers": down[:20],
    }
    decided = len(up) + len(down)
    if decided == 0:
        return True, f"no member has a decided state yet ({len(other)} pending or in maintenance)", details
    share = 100.0 * len(up) / decided
    details["percentUp"] = round(share, 1)
    if rule.rule == "allUp":
        ok = not down
    elif rule.rule == "anyUp":
        ok = bool(up)
    else:
        ok = share >= rule.minPercent
    need = {"allUp": "all up", "anyUp": "at least one up", "percent": f"at least {rule.minPercent:g}% up"}
    summary = f"{len(up)} of {decided} members up ({share:.0f}%), rule {need[rule.rule]}"
    if not ok and down:
        summary += "; down: " + ", ".join(down[:5]) + (" …" if len(down) > 5 else "")
    return ok, summary, details


@register(MonitorType.GROUP)
def check_group(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    rule: GroupSpec = spec.group  # type: ignore[assignment]
    if ctx.store is None:
        return CheckResult.down(FailureClass.CONFIG, "group monitors need the store")
    namespace = None if rule.namespaces else ctx.namespace
    records = ctx.store.resources.list(kind="Monitor", namespace=namespace)
    monitors = [view(r.namespace, r.name, r.labels, r.spec) for r in records if r.valid]
    stored = next((m for m in monitors if m.key == (ctx.namespace, ctx.name)), None)
    me = MonitorView(ctx.namespace, ctx.name, stored.labels if stored else {}, True, rule)
    monitors = [m for m in monitors if m.key != me.key] + [me]
    loop = on_cycle(me.key, monitors)
    if loop is not None:
        return CheckResult.down(
            FailureClass.CONFIG, f"groups follow each other in a circle: {describe_cycle(loop)}"
        )
    chosen = members(me, monitors)
    if not chosen:
        return CheckResult.down(FailureClass.CONFIG, "the selector picks no monitor")
    uids = {
        r.uid: f"{r.namespace}/{r.name}" for r in records if (r.namespace, r.name) in {m.key for m in chosen}
    }
    current = ctx.store.checks.states(list(uids))
    states = {
        name: (current[uid].state if uid in current else State.PENDING.value) for uid, name in uids.items()
    }
    ok, reason, details = verdict(rule, states)
    if ok:
        return CheckResult.up(None, reason, **details)
    return CheckResult.down(FailureClass.MISMATCH, reason, None, **details)
