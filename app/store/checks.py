"""Recording checks: heartbeat, state, incident, uptime rollups and the outbox row, in one transaction.

The incident is opened or closed here, under the state row's lock, so the order of
outages never depends on how messages travel afterwards: the transition row carries the
incident it opened or closed, and the alert path only announces what the check decided.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pony.orm import Database, db_session, desc, select

from app.model import CheckResult, Decision, MonitorSnapshot
from app.store.rawsql import read_time, select_in
from app.store.recording import CheckToRecord, Recorded, record_batch
from app.store.timeutil import from_db, iso, to_db

__all__ = ["CheckRepo", "CheckToRecord", "HeartbeatView", "Recorded", "StateView", "state_view"]


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


_STATE_VIEW = "uid, state, since, last_check_at, latency_ms, reason, failure, details, checks"


def _state_row(r: Any) -> StateView:
    uid, state, since, last, latency, reason, failure, details, checks = r
    if isinstance(details, str):  # SQLite hands JSON back as text
        details = json.loads(details)
    return StateView(uid, state, read_time(since), read_time(last), latency, reason or "", failure, details,
                     checks)  # fmt: skip


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
        """A batch of checks in one transaction and a few statements (app.store.recording); one
        answer per item, in the order given (None for a monitor deleted while it was checked)."""
        with db_session:
            return record_batch(self.db, self.dialect, items)

    def record_in_session(
        self,
        uid: str,
        result: CheckResult,
        decide: Callable[[MonitorSnapshot | None], Decision],
        now: datetime,
    ) -> Recorded | None:
        """`record` inside a db_session the caller opened (to add its own writes to the transaction):
        a batch of one, through the same statements as `record_many`.

        None when the monitor was deleted while it was being checked: its state went with it, and
        recording the result would bring it back as a new monitor (and a new outage)."""
        return record_batch(self.db, self.dialect, [CheckToRecord(uid, result, decide, now)])[0]

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
        """Plain rows, not entities: the push deadline job reads every push monitor's state each
        second, and building entities was most of a push-heavy process's CPU."""
        sql = f"SELECT {_STATE_VIEW} FROM kk_monitor_state"
        with db_session:
            if uids is None:
                rows = self.db.select(sql)
            else:
                rows = select_in(self.db, sql + " WHERE uid IN", list(uids))
        return {r[0]: _state_row(r) for r in rows}

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
