"""The transition outbox: rows written by the check, claimed and finished by the alert path.

A claim carries a token made for that one attempt (not the process's name, which every
thread of a process shares), the time it started and who holds it, so a sweeper retakes
only a claim whose holder died or overran its lease. Every claim counts an attempt; past
the cap a transition is `failed`, visibly, instead of being retried for ever.

Per monitor, transitions are handled in the order they were recorded: `next_for` hands out
the oldest unfinished one, and nothing later while it is claimed by someone alive.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pony.orm import Database, db_session, select

from app.model import TransitionStatus
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
    incident_id: int | None = None
    event: str | None = None  # "down" (opened incident_id), "up" (closed it), or None
    status: str = TransitionStatus.PENDING
    attempts: int = 0
    token: str | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "monitorUid": self.monitor_uid, "from": self.from_state, "to": self.to_state,
            "at": iso(self.at), "reason": self.reason, "incidentId": self.incident_id, "event": self.event,
            "status": self.status, "attempts": self.attempts, "note": self.note or None,
        }  # fmt: skip


def _view(r: Any, token: str | None = None) -> TransitionView:
    return TransitionView(
        r.id, r.monitor_uid, r.from_state, r.to_state, from_db(r.at), r.reason or "", r.failure,
        r.incident_id, r.event, r.status, r.attempts, token, r.note or "",
    )  # fmt: skip


@dataclass(slots=True)
class Claim:
    """What `next_for` found: a transition to handle now, or why not."""

    transition: TransitionView | None = None
    busy: bool = False  # the oldest unfinished one is claimed by a live holder: try again shortly
    gave_up: TransitionView | None = None  # out of attempts: marked failed


class TransitionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, transition_id: int) -> TransitionView | None:
        with db_session:
            row = self.db.Transition.get(id=transition_id)
            return _view(row) if row else None

    def next_for(
        self, monitor_uid: str, up_to: int, holder: str, now: datetime, lease_s: float,
        alive: Any = None, max_attempts: int = 8,
    ) -> Claim:  # fmt: skip
        """Claim the oldest unfinished transition of the monitor with id <= `up_to`.

        A claim is free to retake when it is older than `lease_s` or its holder is not `alive`."""
        t, pending = to_db(now), str(TransitionStatus.PENDING)
        with db_session:
            rows = select(
                r for r in self.db.Transition
                if r.monitor_uid == monitor_uid and r.id <= up_to and r.status == pending
            ).order_by(lambda r: r.id).for_update()[:1]  # fmt: skip
            if not rows:
                return Claim()
            row = rows[0]
            if row.claim_token is not None and row.claimed_at is not None:
                fresh = from_db(row.claimed_at) > now - timedelta(seconds=lease_s)
                if fresh and (alive is None or alive(row.claimed_by or "")):
                    return Claim(busy=True)
            if row.attempts >= max_attempts:
                row.status, row.claim_token = str(TransitionStatus.FAILED), None
                row.note = f"gave up after {row.attempts} attempts: {row.note or 'no error recorded'}"[:500]
                return Claim(gave_up=_view(row))
            token = uuid.uuid4().hex
            row.claim_token, row.claimed_at, row.claimed_by = token, t, holder[:200]
            row.attempts += 1
            return Claim(transition=_view(row, token))

    def finish(self, transition_id: int, token: str, status: TransitionStatus, now: datetime,
               note: str = "") -> bool:  # fmt: skip
        """Mark the claimed transition done; False when the claim was lost (retaken by a sweeper)."""
        with db_session:
            row = self.db.Transition.get_for_update(id=transition_id)
            if row is None or row.claim_token != token or row.status != TransitionStatus.PENDING:
                return False
            row.status, row.handled_at, row.claim_token = str(status), to_db(now), None
            if note:
                row.note = note[:500]
            return True

    def release(self, transition_id: int, token: str, error: str) -> None:
        """An attempt failed: free the claim at once (the retry need not wait out the lease)."""
        with db_session:
            row = self.db.Transition.get_for_update(id=transition_id)
            if row is not None and row.claim_token == token:
                row.claim_token, row.claimed_at, row.note = None, None, error[:500]

    def stuck(self, now: datetime, grace_s: float, lease_s: float, alive: Any = None,
              limit: int = 500) -> list[tuple[int, str]]:  # fmt: skip
        """(id, monitor) of unfinished transitions nobody is working on: unclaimed for `grace_s`
        (the message was lost), or claimed by a holder that died or overran the lease."""
        g_cut = to_db(now - timedelta(seconds=grace_s))
        l_cut = to_db(now - timedelta(seconds=lease_s))
        pending = str(TransitionStatus.PENDING)
        with db_session:
            rows = select(
                (r.id, r.monitor_uid, r.claim_token, r.claimed_at, r.claimed_by) for r in self.db.Transition
                if r.status == pending and r.at < g_cut
            ).order_by(1)[:limit]  # fmt: skip
        out = []
        for tid, uid, token, claimed_at, holder in rows:
            if (
                token is None
                or claimed_at is None
                or claimed_at < l_cut
                or (alive is not None and not alive(holder or ""))
            ):
                out.append((tid, uid))
        return out

    def list(self, monitor_uid: str | list[str] | None = None, status: str | None = None,
             limit: int = 100, before: int | None = None) -> list[TransitionView]:  # fmt: skip
        """Newest first; `before` is the id of the last row of the previous page."""
        if monitor_uid == []:
            return []
        with db_session:
            q = select(r for r in self.db.Transition)
            if isinstance(monitor_uid, list):
                q = q.filter(lambda r: r.monitor_uid in monitor_uid)
            elif monitor_uid:
                q = q.filter(lambda r: r.monitor_uid == monitor_uid)
            if status:
                q = q.filter(lambda r: r.status == status)
            if before is not None:
                q = q.filter(lambda r: r.id < before)
            return [_view(r) for r in q.order_by(lambda r: -r.id)[:limit]]
