"""Push monitors' bookkeeping: when the last push arrived and when a run started.

Kept in the database (not process memory) so any web process can take a push and the
scheduled deadline check, run by any worker, sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pony.orm import Database, db_session, select

from app.model import CheckResult, Decision, MonitorSnapshot
from app.store.checks import CheckRepo, Recorded
from app.store.timeutil import from_db, to_db


class PushRepo:
    def __init__(self, db: Database, checks: CheckRepo) -> None:
        self.db = db
        self.checks = checks

    def record_push(
        self,
        uid: str,
        make_result: Callable[[datetime | None], CheckResult],
        decide: Callable[[CheckResult, MonitorSnapshot | None], Decision],
        now: datetime,
    ) -> Recorded | None:
        """Take the run's start, record the result and note the push: one transaction per push.
        None when the monitor was deleted meanwhile."""
        with db_session:
            start = self.db.Meta.get_for_update(key=f"push-start:{uid}")
            started = None
            if start is not None:
                started = from_db(datetime.fromisoformat(start.value))
                start.delete()
            result = make_result(started)
            recorded = self.checks.record_in_session(uid, result, lambda prev: decide(result, prev), now)
            if recorded is None:
                return None
            self._set(f"push-last:{uid}", to_db(now).isoformat())
            return recorded

    def _set(self, key: str, value: str) -> None:
        row = self.db.Meta.get_for_update(key=key)
        if row is None:
            self.db.Meta(key=key, value=value)
        else:
            row.value = value

    def mark_start(self, uid: str, at: datetime) -> None:
        with db_session:
            self._set(f"push-start:{uid}", to_db(at).isoformat())

    def first_seen(self, uid: str, now: datetime) -> datetime:
        """When the deadline check first saw this monitor: the clock for a push that never came."""
        with db_session:
            row = self.db.Meta.get(key=f"push-seen:{uid}")
            if row is not None:
                return from_db(datetime.fromisoformat(row.value))
            self.db.Meta(key=f"push-seen:{uid}", value=to_db(now).isoformat())
            return now

    def last_push(self, uid: str) -> datetime | None:
        with db_session:
            row = self.db.Meta.get(key=f"push-last:{uid}")
            return from_db(datetime.fromisoformat(row.value)) if row else None

    def last_pushes(self, uids: list[str]) -> dict[str, datetime]:
        """For each push monitor, when its deadline clock last started: its last push, or when the
        deadline check first saw it."""
        keys = [f"push-last:{u}" for u in uids] + [f"push-seen:{u}" for u in uids]
        out: dict[str, datetime] = {}
        with db_session:
            rows = select((m.key, m.value) for m in self.db.Meta if m.key in keys)[:]
        seen: dict[str, datetime] = {}
        for key, value in rows:
            kind, uid = key.split(":", 1)
            (out if kind == "push-last" else seen)[uid] = from_db(datetime.fromisoformat(value))
        for uid, at in seen.items():
            out.setdefault(uid, at)
        return out
