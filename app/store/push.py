"""Push monitors' bookkeeping: when the last push arrived and when a run started.

Kept in the database (not process memory) so any web process can take a push and the
scheduled deadline check, run by any worker, sees it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from pony.orm import Database, db_session

from app.model import CheckResult, Decision, MonitorSnapshot
from app.store.checks import CheckRepo
from app.store.rawsql import Raw, chunks, select_in
from app.store.recording import CheckToRecord, Recorded, record_batch
from app.store.timeutil import from_db, to_db


@dataclass(slots=True)
class PushToRecord:
    """One push that reported a result: what `record_pushes` writes."""

    uid: str
    make_result: Callable[[datetime | None], CheckResult]  # given when the run started, if it said so
    decide: Callable[[CheckResult, MonitorSnapshot | None], Decision]
    now: datetime


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
        """Take the run's start, record the result and note the push in one transaction.
        None when the monitor was deleted meanwhile."""
        return self.record_pushes([PushToRecord(uid, make_result, decide, now)])[0]

    def record_pushes(self, pushes: Sequence[PushToRecord]) -> list[Recorded | None]:
        """Several pushes in one transaction (the web's group commit), one answer each in order.

        Per monitor, in the order given: the first push takes the run's start (if `/start` left
        one), each is recorded as a check, and the last one recorded is the monitor's last push."""
        with db_session:
            raw = Raw(self.db, self.checks.dialect)
            starts = self._take_starts(raw, sorted({p.uid for p in pushes}))
            items = []
            for p in pushes:
                result = p.make_result(starts.pop(p.uid, None))
                items.append(CheckToRecord(p.uid, result, partial(p.decide, result), p.now))
            recorded = record_batch(self.db, self.checks.dialect, items)
            last = {p.uid: to_db(p.now).isoformat() for p, r in zip(pushes, recorded, strict=True) if r}
            rows = [(f"push-last:{uid}", value) for uid, value in sorted(last.items())]
            for part in chunks(rows, 2):
                raw.run(
                    f"INSERT INTO kk_meta (key, value) VALUES {raw.rows_marks(len(part), 2)} "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [v for row in part for v in row],
                )
            return recorded

    def _take_starts(self, raw: Raw, uids: list[str]) -> dict[str, datetime]:
        """The runs' starts that `/start` noted, removed as they are taken."""
        lock = " ORDER BY key FOR UPDATE" if raw.dialect == "postgres" else ""
        out: dict[str, datetime] = {}
        for part in chunks([f"push-start:{u}" for u in uids], 1):
            where, params = raw.member("key", part)
            rows = raw.rows(f"SELECT key, value FROM kk_meta WHERE {where}{lock}", params)
            if rows:
                where, params = raw.member("key", [k for k, _ in rows])
                raw.run(f"DELETE FROM kk_meta WHERE {where}", params)
            out.update({k.split(":", 1)[1]: from_db(datetime.fromisoformat(v)) for k, v in rows})
        return out

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
        with db_session:  # plain rows: the deadline job asks for every push monitor each second
            rows = select_in(self.db, "SELECT key, value FROM kk_meta WHERE key IN", keys)
        seen: dict[str, datetime] = {}
        for key, value in rows:
            kind, uid = key.split(":", 1)
            (out if kind == "push-last" else seen)[uid] = from_db(datetime.fromisoformat(value))
        for uid, at in seen.items():
            out.setdefault(uid, at)
        return out
