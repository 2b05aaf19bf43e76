"""Incidents: opened and closed by the check that changed the state, read by the API and the alert path.

An incident opens when a monitor enters DOWN with none open, and closes when it is next
seen UP, whatever lay between: a MAINTENANCE that starts during an outage keeps the
incident open, so the recovery after it is announced to those who were told of the
outage (and a monitor still failing afterwards continues the same incident, with no second
DOWN). A monitor that is deleted or paused closes its incident with a `close_reason` and
announces nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pony.orm import Database, db_session, desc, select

from app.model import State
from app.store.rawsql import Raw, chunks
from app.store.timeutil import from_db, iso, to_db


@dataclass(slots=True)
class IncidentView:
    id: int
    monitor_uid: str
    opened_at: datetime
    closed_at: datetime | None
    first_reason: str
    last_reason: str
    failure: str | None
    close_reason: str = ""
    opened_by: int | None = None  # the transition that opened it
    acked_at: datetime | None = None
    acked_by: str | None = None

    @property
    def duration_s(self) -> float | None:
        return (self.closed_at - self.opened_at).total_seconds() if self.closed_at else None

    def ending(self) -> str:
        """How it ended, for the notes of news that came too late; '' while it is open."""
        if self.closed_at is None:
            return ""
        return self.close_reason or f"it recovered at {iso(self.closed_at)}"

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
            "closeReason": self.close_reason or None,
            "acknowledgedAt": iso(self.acked_at),
            "acknowledgedBy": self.acked_by,
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
        r.close_reason or "",
        r.opened_by,
        from_db(r.acked_at),
        r.acked_by,
    )


class IncidentStep(enum.StrEnum):
    """What one recorded check does to its monitor's incident."""

    NONE = "none"
    KEEP_REASON = "keep-reason"  # still (or again) down: the open incident keeps the latest reason
    OPEN = "open"  # entered DOWN with none open
    CLOSE = "close"  # seen UP again: the open incident ends, whatever lay between


def incident_step(state: State, changed: bool, has_open: bool) -> IncidentStep:
    """The rule of this module's docstring, as a pure function of the check's decision.

    `changed`: the check recorded a transition; `has_open`: the monitor has an open incident."""
    if state == State.DOWN:
        if has_open:
            return IncidentStep.KEEP_REASON
        return IncidentStep.OPEN if changed else IncidentStep.NONE
    if state == State.UP and changed and has_open:
        return IncidentStep.CLOSE
    return IncidentStep.NONE


@dataclass(slots=True)
class IncidentChange:
    """One check's effect on its monitor's incident, to write in the check's transaction."""

    uid: str
    step: IncidentStep
    at: datetime
    reason: str
    failure: str | None
    transition_id: int | None  # the state change that opens or closes it
    incident_id: int | None  # the open incident (KEEP_REASON, CLOSE)


def open_incidents(raw: Raw, uids: Sequence[str]) -> dict[str, int]:
    """monitor uid -> id of its open incident, for the monitors that have one."""
    out: dict[str, int] = {}
    for part in chunks(uids, 1):
        where, params = raw.member("open_key", part)
        rows = raw.rows(f"SELECT open_key, id FROM kk_incidents WHERE {where}", params)
        out.update({key: int(i) for key, i in rows})
    return out


def apply_incident_changes(raw: Raw, changes: Sequence[IncidentChange]) -> None:
    """Open or close incidents as the checks decided, and stamp each opening or closing transition
    with its incident and event. Runs in the checks' transaction, under their state rows' locks, so
    no other check of these monitors interleaves. Steady outages cost one statement; openings and
    closings (state changes: rare) a few each."""
    keep = [c for c in changes if c.step == IncidentStep.KEEP_REASON and c.reason and c.incident_id]
    for part in chunks([[c.incident_id, c.reason[:2000]] for c in keep], 3):
        cases = " ".join(f"WHEN {raw.ph} THEN {raw.ph}" for _ in part)
        where, ids = raw.member("id", [i for i, _ in part])
        sql = f"UPDATE kk_incidents SET last_reason = CASE id {cases} END WHERE {where}"
        raw.run(sql, [v for row in part for v in row] + ids)
    opening = [c for c in changes if c.step == IncidentStep.OPEN and c.transition_id is not None]
    if opening:
        columns = ("monitor_uid", "open_key", "opened_at", "first_reason", "last_reason", "failure")
        rows = [
            [c.uid, c.uid, raw.time(c.at), c.reason[:2000], c.reason[:2000], c.failure, c.transition_id]
            for c in opening
        ]
        opened = raw.insert("kk_incidents", (*columns, "opened_by"), rows, key="open_key")
        for c in opening:
            _stamp(raw, c.transition_id, opened[c.uid], "down")
    for c in changes:
        if c.step != IncidentStep.CLOSE or c.transition_id is None or c.incident_id is None:
            continue
        closed = raw.run(
            f"UPDATE kk_incidents SET open_key = NULL, closed_at = {raw.ph}, closed_by = {raw.ph} "
            f"WHERE id = {raw.ph} AND open_key = {raw.ph}",
            [raw.time(c.at), c.transition_id, c.incident_id, c.uid],
        )
        if closed:  # else closed a moment ago (the monitor was deleted or paused): nothing to announce
            _stamp(raw, c.transition_id, c.incident_id, "up")


def _stamp(raw: Raw, transition_id: int | None, incident_id: int, event: str) -> None:
    sql = f"UPDATE kk_transitions SET incident_id = {raw.ph}, event = {raw.ph} WHERE id = {raw.ph}"
    raw.run(sql, [incident_id, event, transition_id])


class IncidentRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, incident_id: int) -> IncidentView | None:
        with db_session:
            row = self.db.Incident.get(id=incident_id)
            return _incident(row) if row else None

    def open_for(self, monitor_uid: str) -> IncidentView | None:
        with db_session:
            cur = self.db.Incident.get(open_key=monitor_uid)
            return _incident(cur) if cur else None

    def acknowledge(self, incident_id: int, by: str, now: datetime) -> IncidentView | None:
        """Mark an open incident as seen by `by`: reminders stop. The first acknowledgement stays."""
        with db_session:
            row = self.db.Incident.get(id=incident_id)
            if row is None:
                return None
            if row.acked_at is None and row.closed_at is None:
                row.acked_at, row.acked_by = to_db(now), by
            return _incident(row)

    def forget_monitor(self, monitor_uid: str, why: str, now: datetime) -> IncidentView | None:
        """A monitor deleted or paused: close its incident quietly and start its state afresh."""
        with db_session:
            return forget_monitor(self.db, monitor_uid, why, now)

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

    def prune(self, older_than: datetime) -> int:
        """Closed incidents (and the handled transitions) older than the cut-off."""
        cut = to_db(older_than)
        with db_session:
            n = self.db.execute("DELETE FROM kk_incidents WHERE closed_at IS NOT NULL AND closed_at < $c",
                                {"c": cut}).rowcount  # fmt: skip
            n += self.db.execute("DELETE FROM kk_transitions WHERE at < $c AND status <> 'pending'",
                                 {"c": cut}).rowcount  # fmt: skip
            return int(n)

    def prune_audit(self, older_than: datetime) -> int:
        with db_session:
            return int(self.db.execute("DELETE FROM kk_audit_events WHERE at < $c",
                                       {"c": to_db(older_than)}).rowcount)  # fmt: skip


def forget_monitor(db: Database, monitor_uid: str, why: str, now: datetime) -> IncidentView | None:
    """Inside a transaction: close the open incident with `why`, drop the state, stop pending news."""
    t = to_db(now)
    cur = db.Incident.get_for_update(open_key=monitor_uid)
    closed = None
    if cur is not None:
        cur.open_key, cur.closed_at, cur.close_reason = None, t, why[:200]
        closed = _incident(cur)
    state = db.MonitorStateRow.get(uid=monitor_uid)
    if state is not None:
        state.delete()
    if why == "monitor deleted" and db.Meta.get(key=f"forgotten:{monitor_uid}") is None:
        db.Meta(key=f"forgotten:{monitor_uid}", value=t.isoformat())  # its history goes at the next prune
    db.execute("UPDATE kk_transitions SET status = 'superseded', note = $why "
               "WHERE monitor_uid = $uid AND status = 'pending'",
               {"why": why[:500], "uid": monitor_uid})  # fmt: skip
    db.execute("UPDATE kk_deliveries SET status = 'superseded', last_error = $why, claim_token = NULL "
               "WHERE monitor_uid = $uid AND status IN ('pending', 'sending')",
               {"why": why[:2000], "uid": monitor_uid})  # fmt: skip
    return closed
