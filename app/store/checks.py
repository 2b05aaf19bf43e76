"""Recording checks: heartbeat, state, incident, uptime rollups and the outbox row, in one transaction.

The incident is opened or closed here, under the state row's lock, so the order of
outages never depends on how messages travel afterwards: the transition row carries the
incident it opened or closed, and the alert path only announces what the check decided.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pony.orm import Database, db_session, desc, select

from app.model import CheckResult, Decision, FailureClass, MonitorSnapshot, State
from app.store.incidents import incident_effect
from app.store.timeutil import from_db, iso, to_db


@dataclass(slots=True)
class Recorded:
    decision: Decision
    heartbeat_id: int
    transition_id: int | None


@dataclass(slots=True)
class CheckToRecord:
    """One finished check of a batch: what `record_many` writes."""

    uid: str
    result: CheckResult
    decide: Callable[[MonitorSnapshot | None], Decision]
    now: datetime


@dataclass(slots=True)
class HeartbeatView:
    id: int
    time: str | None
    state: str
    ok: bool
    latency_ms: float | None
    reason: str
    failure: str | None
    details: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": self.time,
            "state": self.state,
            "ok": self.ok,
            "latencyMs": self.latency_ms,
            "reason": self.reason,
            "failure": self.failure,
            "details": self.details or {},
        }


@dataclass(slots=True)
class StateView:
    uid: str
    state: str
    since: datetime | None
    last_check_at: datetime | None
    latency_ms: float | None
    reason: str
    failure: str | None
    details: dict[str, Any] | None
    checks: int


# One statement for the three resolutions: one round trip instead of three on the hot path.
_UPSERT_ROLLUP = (
    "INSERT INTO kk_uptime "
    "(monitor_uid, resolution, bucket, up, down, maintenance, latency_sum, latency_count) VALUES "
    "($uid, 'm', $bm, $up, $down, $mnt, $lsum, $lcnt), "
    "($uid, 'h', $bh, $up, $down, $mnt, $lsum, $lcnt), "
    "($uid, 'd', $bd, $up, $down, $mnt, $lsum, $lcnt) "
    "ON CONFLICT (monitor_uid, resolution, bucket) DO UPDATE SET "
    "up = kk_uptime.up + excluded.up, down = kk_uptime.down + excluded.down, "
    "maintenance = kk_uptime.maintenance + excluded.maintenance, "
    "latency_sum = kk_uptime.latency_sum + excluded.latency_sum, "
    "latency_count = kk_uptime.latency_count + excluded.latency_count"
)


def buckets(t: datetime) -> tuple[tuple[str, datetime], ...]:
    minute = t.replace(second=0, microsecond=0)
    return (("m", minute), ("h", minute.replace(minute=0)), ("d", minute.replace(hour=0, minute=0)))


def state_view(r: Any) -> StateView:
    return StateView(
        r.uid,
        r.state,
        from_db(r.since),
        from_db(r.last_check_at),
        r.latency_ms,
        r.reason or "",
        r.failure,
        r.details,
        r.checks,
    )


def _snapshot(row: Any) -> MonitorSnapshot | None:
    if row is None:
        return None
    return MonitorSnapshot(
        state=State(row.state),
        since=from_db(row.since),
        failures=row.failures,
        reason=row.reason or "",
        failure=FailureClass(row.failure) if row.failure else None,
    )


class CheckRepo:
    def __init__(self, db: Database, dialect: str) -> None:
        self.db = db
        self.dialect = dialect

    def record(
        self,
        uid: str,
        result: CheckResult,
        decide: Callable[[MonitorSnapshot | None], Decision],
        now: datetime,
    ) -> Recorded | None:
        """Load the state, let `decide` (pure) pick the next one, and write everything at once."""
        with db_session:
            return self.record_in_session(uid, result, decide, now)

    def record_many(self, items: Sequence[CheckToRecord]) -> list[Recorded | None]:
        """A batch of checks in one transaction; one answer per item, in the order given
        (None for a monitor deleted while it was checked)."""
        with db_session:
            return [self.record_in_session(i.uid, i.result, i.decide, i.now) for i in items]

    def record_in_session(
        self,
        uid: str,
        result: CheckResult,
        decide: Callable[[MonitorSnapshot | None], Decision],
        now: datetime,
    ) -> Recorded | None:
        """`record` inside a db_session the caller opened (to add its own writes to the transaction).

        None when the monitor was deleted while it was being checked: its state went with it, and
        recording the result would bring it back as a new monitor (and a new outage)."""
        db = self.db
        t = to_db(now)
        row = db.MonitorStateRow.get_for_update(uid=uid)
        if row is None and self._deleted(uid):
            return None
        decision = decide(_snapshot(row))
        snap = decision.snapshot
        failure = snap.failure.value if snap.failure else None
        details = result.details or None
        hb = db.Heartbeat(
            monitor_uid=uid,
            time=t,
            state=snap.state.value,
            ok=decision.ok,
            latency_ms=result.latency_ms,
            reason=snap.reason[:2000],
            failure=failure,
            details=details,
        )
        if row is None:
            row = db.MonitorStateRow(uid=uid, state=snap.state.value, since=to_db(snap.since))
        row.state = snap.state.value
        row.since = to_db(snap.since)
        row.failures = snap.failures
        row.reason = snap.reason[:2000]
        row.failure = failure
        row.last_check_at = t
        row.latency_ms = result.latency_ms
        row.details = details
        row.checks += 1
        transition = None
        if decision.changed:
            transition = db.Transition(
                monitor_uid=uid,
                from_state=decision.previous.value if decision.previous else None,
                to_state=snap.state.value,
                at=t,
                reason=snap.reason[:2000],
                failure=failure,
            )
            db.flush()
        incident_effect(db, uid, snap.state, snap.reason, failure, t, transition)
        db.flush()
        up = 1 if snap.state == State.UP else 0
        mnt = 1 if snap.state == State.MAINTENANCE else 0
        down = 1 - up - mnt
        lsum = float(result.latency_ms or 0.0)
        lcnt = 1 if result.latency_ms is not None else 0
        (_, bm), (_, bh), (_, bd) = buckets(t)
        db.execute(
            _UPSERT_ROLLUP,
            {
                "uid": uid,
                "bm": bm,
                "bh": bh,
                "bd": bd,
                "up": up,
                "down": down,
                "mnt": mnt,
                "lsum": lsum,
                "lcnt": lcnt,
            },
        )
        return Recorded(decision, hb.id, transition.id if transition else None)

    def _deleted(self, uid: str) -> bool:
        """A monitor with no state: new, or deleted a moment ago (then its tombstone is there and its
        resource is not). Locking the resource row holds off a deletion until this check commits."""
        if self.db.ResourceRow.get_for_update(uid=uid) is not None:
            return False
        return self.db.Meta.get(key=f"forgotten:{uid}") is not None

    def heartbeats(self, uid: str, limit: int = 50, before: int | None = None) -> list[HeartbeatView]:
        """Newest first; `before` is the id of the last heartbeat of the previous page."""
        with db_session:
            q = select(h for h in self.db.Heartbeat if h.monitor_uid == uid)
            if before is not None:
                q = q.filter(lambda h: h.id < before)
            rows = q.order_by(lambda h: desc(h.id))[:limit]
            return [
                HeartbeatView(
                    h.id, iso(h.time), h.state, h.ok, h.latency_ms, h.reason or "", h.failure, h.details
                )
                for h in rows
            ]

    def count_heartbeats(self, uid: str | None = None) -> int:
        with db_session:
            if uid is None:
                return int(self.db.select("SELECT COUNT(*) FROM kk_heartbeats")[0])
            return int(
                self.db.select("SELECT COUNT(*) FROM kk_heartbeats WHERE monitor_uid = $uid", {"uid": uid})[0]
            )

    def states(self, uids: list[str] | None = None) -> dict[str, StateView]:
        with db_session:
            if uids is None:
                rows = select(s for s in self.db.MonitorStateRow)[:]
            else:
                wanted = list(uids)
                rows = select(s for s in self.db.MonitorStateRow if s.uid in wanted)[:]
            return {r.uid: state_view(r) for r in rows}

    def uptime(self, uid: str, since: datetime, resolution: str = "h") -> dict[str, float | None]:
        """Up ratio and mean latency from rollups (no raw heartbeats read)."""
        with db_session:
            row = self.db.select(
                "SELECT COALESCE(SUM(up),0), COALESCE(SUM(down),0), COALESCE(SUM(latency_sum),0), "
                "COALESCE(SUM(latency_count),0) FROM kk_uptime "
                "WHERE monitor_uid = $uid AND resolution = $res AND bucket >= $since",
                {"uid": uid, "res": resolution, "since": to_db(since)},
            )[0]
        up, down, lsum, lcnt = row
        total = up + down
        return {
            "ratio": (up / total) if total else None,
            "avgLatencyMs": (lsum / lcnt) if lcnt else None,
        }

    def prune_heartbeats(self, older_than: datetime, batch: int = 5000) -> int:
        """Delete raw heartbeats older than the cut-off in small batches (short locks)."""
        cutoff = to_db(older_than)
        total = 0
        while True:
            with db_session:
                ids = self.db.select(
                    "SELECT id FROM kk_heartbeats WHERE time < $cutoff ORDER BY id LIMIT $n",
                    {"cutoff": cutoff, "n": batch},
                )
                if not ids:
                    return total
                self.db.execute(
                    "DELETE FROM kk_heartbeats WHERE id >= $lo AND id <= $hi AND time < $cutoff",
                    {"lo": ids[0], "hi": ids[-1], "cutoff": cutoff},
                )
            total += len(ids)
            if len(ids) < batch:
                return total

    def prune_forgotten(self, batch: int = 5000) -> int:
        """The history of deleted monitors (heartbeats, rollups, push bookkeeping), unless they came back."""
        total = 0
        with db_session:
            keys = self.db.select(
                "SELECT key FROM kk_meta WHERE key LIKE 'forgotten:%' ORDER BY key LIMIT 100"
            )
        for key in keys:
            uid = key.split(":", 1)[1]
            with db_session:
                back = self.db.exists("SELECT 1 FROM kk_resources WHERE uid = $u", {"u": uid})
            while not back:
                with db_session:
                    n = self.db.execute(
                        "DELETE FROM kk_heartbeats WHERE id IN "
                        "(SELECT id FROM kk_heartbeats WHERE monitor_uid = $u LIMIT $n)",
                        {"u": uid, "n": batch},
                    ).rowcount
                total += n
                if n < batch:
                    break
            with db_session:
                if not back:
                    self.db.execute("DELETE FROM kk_uptime WHERE monitor_uid = $u", {"u": uid})
                    for prefix in ("push-last:", "push-start:", "push-seen:"):
                        self.db.execute("DELETE FROM kk_meta WHERE key = $k", {"k": prefix + uid})
                self.db.execute("DELETE FROM kk_meta WHERE key = $k", {"k": key})
        return total
