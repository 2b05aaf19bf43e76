"""Claiming transitions from the outbox, and opening and closing incidents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pony.orm import Database, db_session, desc, select

from app.store.timeutil import from_db, iso, to_db


@dataclass(slots=True)
class TransitionView:
    id: int
    monitor_uid: str
    from_state: str | None
    to_state: str
    at: datetime
    reason: str
    failure: str | None


@dataclass(slots=True)
class IncidentView:
    id: int
    monitor_uid: str
    opened_at: datetime
    closed_at: datetime | None
    first_reason: str
    last_reason: str
    failure: str | None

    @property
    def duration_s(self) -> float | None:
        return (self.closed_at - self.opened_at).total_seconds() if self.closed_at else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "monitorUid": self.monitor_uid,
            "openedAt": iso(self.opened_at),
            "closedAt": iso(self.closed_at),
            "open": self.closed_at is None,
            "durationSeconds": self.duration_s,
            "firstReason": self.first_reason,
            "lastReason": self.last_reason,
            "failure": self.failure,
        }


def _incident(r: Any) -> IncidentView:
    return IncidentView(
        r.id,
        r.monitor_uid,
        from_db(r.opened_at),
        from_db(r.closed_at),
        r.first_reason or "",
        r.last_reason or "",
        r.failure,
    )


class IncidentRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim_transition(
        self, transition_id: int, worker: str, now: datetime, lease_s: float = 60
    ) -> TransitionView | None:
        """Claim an unhandled transition. A claim older than `lease_s` (a dead worker's) can be re-taken."""
        t = to_db(now)
        stale = to_db(now - timedelta(seconds=lease_s))
        with db_session:
            row = self.db.Transition.get_for_update(id=transition_id)
            if row is None or row.handled_at is not None:
                return None
            if row.claimed_at is not None and row.claimed_at > stale and row.claimed_by != worker:
                return None
            row.claimed_at, row.claimed_by = t, worker
            return TransitionView(
                row.id,
                row.monitor_uid,
                row.from_state,
                row.to_state,
                from_db(row.at),
                row.reason or "",
                row.failure,
            )

    def mark_handled(self, transition_id: int, now: datetime) -> None:
        with db_session:
            row = self.db.Transition.get_for_update(id=transition_id)
            if row is not None:
                row.handled_at = to_db(now)

    def unhandled_transitions(self, older_than: datetime, limit: int = 100) -> list[int]:
        """Transitions nobody finished (a worker died between commit and enqueue): for the sweeper."""
        cut = to_db(older_than)
        with db_session:
            q = select(t.id for t in self.db.Transition if t.handled_at is None and t.at < cut)
            return list(q.order_by(1)[:limit])

    def open_incident(
        self, monitor_uid: str, at: datetime, reason: str, failure: str | None, transition_id: int
    ) -> IncidentView:
        """Open an incident, or return the one already open (idempotent on redelivery)."""
        with db_session:
            cur = self.db.Incident.get(open_key=monitor_uid)
            if cur is not None:
                cur.last_reason = reason[:2000]
                return _incident(cur)
            row = self.db.Incident(
                monitor_uid=monitor_uid,
                open_key=monitor_uid,
                opened_at=to_db(at),
                first_reason=reason[:2000],
                last_reason=reason[:2000],
                failure=failure,
                opened_by=transition_id,
            )
            self.db.flush()
            return _incident(row)

    def close_incident(self, monitor_uid: str, at: datetime, transition_id: int) -> IncidentView | None:
        with db_session:
            cur = self.db.Incident.get_for_update(open_key=monitor_uid)
            if cur is None:
                return None
            cur.open_key = None
            cur.closed_at = to_db(at)
            cur.closed_by = transition_id
            return _incident(cur)

    def open_for(self, monitor_uid: str) -> IncidentView | None:
        with db_session:
            cur = self.db.Incident.get(open_key=monitor_uid)
            return _incident(cur) if cur else None

    def list(
        self, monitor_uid: str | None = None, open_only: bool = False, limit: int = 100
    ) -> list[IncidentView]:
        with db_session:
            q = select(i for i in self.db.Incident)
            if monitor_uid:
                q = q.filter(lambda i: i.monitor_uid == monitor_uid)
            if open_only:
                q = q.filter(lambda i: i.closed_at is None)
            return [_incident(r) for r in q.order_by(lambda i: desc(i.id))[:limit]]
