"""The dashboard's reads: every monitor's state in brief, and rollup buckets for strips and charts.

The overview's live update reads the state of a thousand monitors a few times a minute per
open browser; Pony would build an entity per row (milliseconds), so `brief_states` is one
raw statement returning plain tuples. `buckets` reads rollups of one resolution over a span
for a set of monitors (the 24 h strip of a page of monitors, the chart of one monitor) along
the primary key (monitor_uid, resolution, bucket); it never touches `kk_heartbeats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pony.orm import Database, db_session

from app.store.rollups import CHUNK, Counts, _fetch, _Named
from app.store.timeutil import from_db


@dataclass(frozen=True, slots=True)
class BriefState:
    state: str
    since: datetime | None
    last_check_at: datetime | None
    latency_ms: float | None
    reason: str


def _time(value: object) -> datetime | None:
    """Raw SQLite rows carry datetimes as text; PostgreSQL as naive datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        return from_db(datetime.fromisoformat(value))
    assert isinstance(value, datetime)
    return from_db(value)


class SeriesRepo:
    def __init__(self, db: Database, dialect: str) -> None:
        self.db = db
        self.dialect = dialect

    def brief_states(self) -> dict[str, BriefState]:
        """Every monitor's state, since, last check, latency and reason, in one plain read."""
        sql = "SELECT uid, state, since, last_check_at, latency_ms, reason FROM kk_monitor_state"
        with db_session:
            rows = _fetch(self.db, sql, {}, self.dialect)
        return {
            uid: BriefState(state, _time(since), _time(last), latency, reason or "")
            for uid, state, since, last, latency, reason in rows
        }

    def buckets(
        self, uids: Sequence[str], resolution: str, start: datetime, end: datetime
    ) -> dict[str, dict[datetime, Counts]]:
        """Rollup buckets of `resolution` starting in [start, end), per monitor uid and bucket start."""
        out: dict[str, dict[datetime, Counts]] = {}
        for lo in range(0, len(uids), CHUNK):
            p = _Named(self.dialect)
            sql = (
                "SELECT monitor_uid, bucket, up, down, maintenance, latency_sum, latency_count "
                "FROM kk_uptime "
                f"WHERE {p.member('monitor_uid', uids[lo : lo + CHUNK])} AND resolution = {p(resolution)} "
                f"AND bucket >= {p(start)} AND bucket < {p(end)}"
            )
            with db_session:
                rows = _fetch(self.db, sql, p.values, self.dialect)
            for uid, bucket, up, down, mnt, lsum, lcnt in rows:
                t = _time(bucket)
                if t is not None:
                    out.setdefault(uid, {})[t] = Counts(
                        int(up or 0), int(down or 0), int(mnt or 0), float(lsum or 0.0), int(lcnt or 0)
                    )
        return out
