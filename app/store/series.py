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
from datetime import UTC, datetime

from pony.orm import Database, db_session

from app.store.rollups import CHUNK, Counts, _fetch, _Named
from app.store.timeutil import from_db


@dataclass(frozen=True, slots=True)
class BriefState:
    state: str
    since: datetime | None
    latency_ms: float | None
    reason: str


def _time(value: object) -> datetime | None:
    """Raw SQLite rows carry datetimes as text; PostgreSQL as naive datetimes (both UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert isinstance(value, datetime)
    return from_db(value)


@dataclass(frozen=True, slots=True)
class OpenIncident:
    id: int
    monitor_uid: str
    opened_at: datetime | None
    last_reason: str
    acked_by: str | None


class SeriesRepo:
    def __init__(self, db: Database, dialect: str) -> None:
        self.db = db
        self.dialect = dialect
        self._since: dict[object, datetime | None] = {}

    def brief_states(self) -> dict[str, BriefState]:
        """Every monitor's state, since when, last latency and reason, in one plain read.

        `since` moves only when a state changes, so its parsed value is remembered: parsing
        a thousand timestamps would be most of the cost."""
        sql = "SELECT uid, state, since, latency_ms, reason FROM kk_monitor_state"
        with db_session:
            rows = _fetch(self.db, sql, {}, self.dialect)
        memo = self._since
        if len(memo) > 4 * len(rows) + 1000:
            memo.clear()
        out = {}
        for uid, state, since, latency, reason in rows:
            t = memo.get(since)
            if t is None and since is not None:
                t = memo[since] = _time(since)
            out[uid] = BriefState(state, t, latency, reason or "")
        return out

    def open_incidents(self, limit: int) -> tuple[int, list[OpenIncident]]:
        """How many incidents are open, and the newest `limit` of them (by the open key's index)."""
        with db_session:
            sql = "SELECT COUNT(*) FROM kk_incidents WHERE open_key IS NOT NULL"
            count = _fetch(self.db, sql, {}, self.dialect)
            rows = _fetch(
                self.db,
                "SELECT id, monitor_uid, opened_at, last_reason, acked_by FROM kk_incidents "
                f"WHERE open_key IS NOT NULL ORDER BY opened_at DESC, id DESC LIMIT {int(limit)}",
                {},
                self.dialect,
            )
        items = [OpenIncident(i, uid, _time(t), reason or "", by) for i, uid, t, reason, by in rows]
        return int(count[0][0]), items

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
            seen: dict[object, datetime | None] = {}  # the same few bucket starts for every monitor
            for uid, bucket, up, down, mnt, lsum, lcnt in rows:
                t = seen.get(bucket)
                if t is None:
                    t = seen[bucket] = _time(bucket)
                if t is not None:
                    out.setdefault(uid, {})[t] = Counts(
                        int(up or 0), int(down or 0), int(mnt or 0), float(lsum or 0.0), int(lcnt or 0)
                    )
        return out
