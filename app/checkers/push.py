"""The push type's scheduled check: only the deadline.

Results of a push monitor arrive over HTTP (`/api/push/{token}`) and are recorded by the
web role. The scheduled check merely asks whether the last push is older than
`interval + gracePeriod`; if not, it records nothing (`details["noop"]`), so a healthy
push monitor has one heartbeat per push, not two.
"""

from __future__ import annotations

from app.checkers.base import CheckContext, register
from app.model import CheckResult, FailureClass
from app.resources.monitor import MonitorSpec, MonitorType


@register(MonitorType.PUSH)
def check_push(spec: MonitorSpec, ctx: CheckContext) -> CheckResult:
    if ctx.store is None:
        return CheckResult.down(FailureClass.CONFIG, "push monitors need the store")
    now = ctx.clock()
    last = ctx.store.push.last_push(ctx.uid)
    allowed = spec.interval + spec.push.gracePeriod  # type: ignore[union-attr]
    since_when = last if last is not None else ctx.store.push.first_seen(ctx.uid, now)
    if (now - since_when).total_seconds() <= allowed:
        return CheckResult(True, None, "", None, {"noop": True})
    since = f"since {last.isoformat()}" if last else "since the monitor was created"
    return CheckResult.down(FailureClass.NO_PUSH, f"no push received in {allowed:.0f}s ({since})")
