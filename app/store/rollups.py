"""Reads over the uptime rollups (`kk_uptime`), their retention, and the other small reads of the public face.

Status pages, badges, the uptime API and metrics read only from here, and none of their
reads touches `kk_heartbeats`: every query is bounded by the number of monitors times the
number of buckets in a window, so a page costs the same at ten thousand heartbeats as
at a hundred million. Which buckets make a window is decided by `app.uptime.plan`; this
module only sums what it is told to. (`rebuild` and `synthesize_heartbeats` write
rollups from heartbeats for imports and benchmarks; `HeartbeatPages` is the API's raw
heartbeat list.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

from pony.orm import Database, db_session, desc, select

from app.store.checks import HeartbeatView, StateView, state_view
from app.store.incidents import IncidentView, _incident
from app.store.timeutil import iso, to_db

RESOLUTIONS = ("m", "h", "d")
CHUNK = 500  # monitors per statement: SQLite takes at most 32766 parameters


class SpanLike(Protocol):
    """Buckets of one resolution whose start is in [start, end) (app.uptime.Span is one)."""

    @property
    def resolution(self) -> str: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...


class Counts(NamedTuple):
    up: int = 0
    down: int = 0
    maintenance: int = 0
    latency_sum: float = 0.0
    latency_count: int = 0


def _day(value: Any) -> date:
    """Raw SQL hands SQLite datetimes back as text ('2024-05-01 00:00:00'); PostgreSQL gives datetimes."""
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value.date()


class _Params:
    """Numbered `$p0, $p1, …` parameters for Pony's raw SQL."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = to_db(value) if isinstance(value, datetime) else value
        return "$" + name

    def in_list(self, items: Iterable[Any]) -> str:
        return "(" + ", ".join(self(i) for i in items) + ")"


class _Named:
    """Named parameters for the driver itself (`:p0` in SQLite, `%(p0)s` in psycopg2).

    The hot reads bypass Pony's raw SQL, which evaluates every `$name` occurrence as Python:
    a statement naming 50 monitors in six branches spent most of its time there.
    """

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        if isinstance(value, datetime):
            value = to_db(value)
            if self.dialect == "sqlite":  # the text SQLite stores (sqlite3's own adapter is deprecated)
                value = value.isoformat(" ")
        self.values[name] = value
        return f":{name}" if self.dialect == "sqlite" else f"%({name})s"

    def member(self, column: str, items: Sequence[Any]) -> str:
        """`column` is one of `items`; PostgreSQL gets one array parameter and still uses the index."""
        if self.dialect == "sqlite":
            return f"{column} IN (" + ", ".join(self(i) for i in items) + ")"
        return f"{column} = ANY({self(list(items))})"


def _fetch(db: Database, sql: str, params: dict[str, Any], dialect: str) -> list[tuple[Any, ...]]:
    """Run on the db_session's own connection, so Pony's transaction and connection pool still hold."""
    cursor = db.get_connection().cursor()
    try:
        if dialect == "postgres":
            # A few index ranges per monitor: starting parallel workers costs more than the read
            # (10-30 ms on a busy machine, measured), and PostgreSQL plans them for a UNION this size.
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


class RollupRepo:
    def __init__(self, db: Database, dialect: str) -> None:
        self.db = db
        self.dialect = dialect

    # -- uptime windows ---------------------------------------------------------------------
    def windows(
        self, uids: Sequence[str] | None, plans: Mapping[str, Sequence[SpanLike]]
    ) -> dict[str, dict[str, Counts]]:
        """Sums per window name and monitor uid, for several windows in one statement per 500 monitors.

        One branch per span, each naming the monitors in an IN list, so both databases walk
        the primary key (monitor_uid, resolution, bucket) per monitor; a subquery there lets
        PostgreSQL misjudge the rows and scan the whole table. `uids=None` means every
        monitor that has a state (for metrics).
        """
        out: dict[str, dict[str, Counts]] = {w: {} for w in plans}
        if uids is None:
            with db_session:
                uids = list(self.db.select("SELECT uid FROM kk_monitor_state"))
        names = list(plans)
        spans = [(i, s) for i, name in enumerate(names) for s in plans[name]]
        if not uids or not spans:
            return out
        for lo in range(0, len(uids), CHUNK):
            p = _Named(self.dialect)
            members = p.member(
                "monitor_uid", uids[lo : lo + CHUNK]
            )  # one set of parameters, named in every branch
            sql = " UNION ALL ".join(
                f"SELECT monitor_uid, {i}, SUM(up), SUM(down), SUM(maintenance), SUM(latency_sum), "
                f"SUM(latency_count) FROM kk_uptime WHERE {members} "
                f"AND resolution = {p(s.resolution)} AND bucket >= {p(s.start)} AND bucket < {p(s.end)} "
                "GROUP BY monitor_uid"
                for i, s in spans
            )
            with db_session:
                rows = _fetch(self.db, sql, p.values, self.dialect)
            for uid, i, up, down, mnt, lsum, lcnt in rows:
                per = out[names[int(i)]]
                c = Counts(int(up or 0), int(down or 0), int(mnt or 0), float(lsum or 0.0), int(lcnt or 0))
                if uid in per:  # a window with edges on both sides has two spans of one resolution
                    o = per[uid]
                    c = Counts(o.up + c.up, o.down + c.down, o.maintenance + c.maintenance,
                               o.latency_sum + c.latency_sum, o.latency_count + c.latency_count)  # fmt: skip
                per[uid] = c
        return out

    def days(self, uids: Sequence[str], first: datetime, end: datetime) -> dict[str, dict[date, Counts]]:
        """Day buckets in [first, end) per monitor: the bars of a status page, one query for the page."""
        if not uids:
            return {}
        p = _Named(self.dialect)
        sql = (
            "SELECT monitor_uid, bucket, up, down, maintenance, latency_sum, latency_count FROM kk_uptime "
            f"WHERE resolution = 'd' AND bucket >= {p(first)} AND bucket < {p(end)} "
            f"AND {p.member('monitor_uid', uids)}"
        )
        with db_session:
            rows = _fetch(self.db, sql, p.values, self.dialect)
        out: dict[str, dict[date, Counts]] = {}
        for uid, bucket, up, down, mnt, lsum, lcnt in rows:
            out.setdefault(uid, {})[_day(bucket)] = Counts(up, down, mnt, lsum, lcnt)
        return out

    def count(self, resolution: str | None = None) -> int:
        with db_session:
            if resolution is None:
                return int(self.db.select("SELECT COUNT(*) FROM kk_uptime")[0])
            rows = self.db.select("SELECT COUNT(*) FROM kk_uptime WHERE resolution = $r", {"r": resolution})
            return int(rows[0])

    # -- retention --------------------------------------------------------------------------
    def prune(self, cutoffs: Mapping[str, datetime], batch: int = 2000) -> dict[str, int]:
        """Delete buckets older than the cut-off of their resolution, in small indexed batches.

        Walks monitor by monitor along the primary key (monitor_uid, resolution, bucket),
        so no statement scans the table and no transaction holds more than `batch` rows,
        however long retention has not run.
        """
        deleted = dict.fromkeys(cutoffs, 0)
        with db_session:
            uids = list(self.db.select("SELECT uid FROM kk_monitor_state"))
        for uid in uids:
            for res, cutoff in cutoffs.items():
                deleted[res] += self._prune_one(uid, res, to_db(cutoff), batch)
        return deleted

    def _prune_one(self, uid: str, res: str, cutoff: datetime, batch: int) -> int:
        total = 0
        args = {"u": uid, "r": res, "c": cutoff, "k": batch - 1}
        while True:
            with db_session:
                edge = self.db.select(
                    "SELECT bucket FROM kk_uptime WHERE monitor_uid = $u AND resolution = $r AND bucket < $c "
                    "ORDER BY bucket LIMIT 1 OFFSET $k",
                    args,
                )
                upto = "bucket <= $e" if edge else "bucket < $c"
                cur = self.db.execute(
                    f"DELETE FROM kk_uptime WHERE monitor_uid = $u AND resolution = $r AND {upto}",
                    {**args, "e": edge[0] if edge else None},
                )
                total += max(cur.rowcount, 0)
            if not edge:
                return total

    # -- rebuilding from heartbeats (imports, benchmarks and tests) --------------------------
    def rebuild(self, resolution: str, since: datetime, until: datetime) -> int:
        """Recompute the buckets of one resolution in [since, until) from raw heartbeats.

        For history that did not go through `CheckRepo.record` (an import, a benchmark's
        generated data). Replaces the buckets it computes; returns how many it wrote.
        """
        if resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {RESOLUTIONS}")
        if self.dialect == "sqlite":
            fmt = {"m": "%Y-%m-%d %H:%M:00", "h": "%Y-%m-%d %H:00:00", "d": "%Y-%m-%d 00:00:00"}[resolution]
            bucket = f"strftime('{fmt}', time)"
        else:
            bucket = "date_trunc('{}', time)".format({"m": "minute", "h": "hour", "d": "day"}[resolution])
        sql = (
            "INSERT INTO kk_uptime (monitor_uid, resolution, bucket, up, down, maintenance, latency_sum, "
            f"latency_count) SELECT monitor_uid, $res, {bucket}, "
            "SUM(CASE WHEN state = 'UP' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN state NOT IN ('UP', 'MAINTENANCE') THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN state = 'MAINTENANCE' THEN 1 ELSE 0 END), "
            "COALESCE(SUM(latency_ms), 0), COUNT(latency_ms) "
            f"FROM kk_heartbeats WHERE time >= $since AND time < $until GROUP BY monitor_uid, {bucket} "
            "ON CONFLICT (monitor_uid, resolution, bucket) DO UPDATE SET up = excluded.up, "
            "down = excluded.down, maintenance = excluded.maintenance, latency_sum = excluded.latency_sum, "
            "latency_count = excluded.latency_count"
        )
        with db_session:
            cur = self.db.execute(sql, {"res": resolution, "since": to_db(since), "until": to_db(until)})
            return max(cur.rowcount, 0)

    def synthesize_heartbeats(
        self, uids: Sequence[str], start: datetime, count: int, every_s: int, down_every: int = 0
    ) -> int:
        """Insert `count` heartbeats per monitor, `every_s` apart from `start`, generated in SQL.

        Every `down_every`-th one is DOWN (0: never). For benchmarks and tests that need a
        long history quickly (millions of rows in seconds); rollups follow with `rebuild`.
        """
        if not uids or count <= 0:
            return 0
        p = _Params()
        values = ", ".join(f"({p(u)})" for u in uids)
        t0, n, step, dmod = p(to_db(start)), p(count), p(every_s), p(down_every or 0)
        # psycopg2 reads % as a placeholder, so PostgreSQL gets mod() (which SQLite may lack).
        mod = (lambda a, b: f"({a} % {b})") if self.dialect == "sqlite" else (lambda a, b: f"mod({a}, {b})")
        state = f"CASE WHEN {dmod} > 0 AND {mod('s.n', dmod)} = 0 THEN 'DOWN' ELSE 'UP' END"
        latency = f"20 + {mod('s.n', 7)}"
        if self.dialect == "sqlite":
            sql = (
                f"WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < {n}), "
                f"m(uid) AS (VALUES {values}) "
                "INSERT INTO kk_heartbeats (monitor_uid, time, state, ok, latency_ms, reason) "
                f"SELECT m.uid, strftime('%Y-%m-%d %H:%M:%S', {t0}, '+' || (s.n * {step}) || ' seconds') "
                f"|| '.000000', {state}, {state} = 'UP', {latency}, '' FROM m CROSS JOIN s"
            )
        else:
            sql = (
                "INSERT INTO kk_heartbeats (monitor_uid, time, state, ok, latency_ms, reason) "
                f"SELECT m.uid, {t0}::timestamp + make_interval(secs => s.n * {step}), {state}, "
                f"{state} = 'UP', {latency}, '' FROM (VALUES {values}) AS m(uid) "
                f"CROSS JOIN generate_series(0, {n} - 1) AS s(n)"
            )
        with db_session:
            self.db.execute(sql, p.values)
        return count * len(uids)

    # -- the other reads of the public face ---------------------------------------------------
    def incidents(self, uids: Sequence[str], since: datetime, limit: int = 50) -> list[IncidentView]:
        """Incidents of these monitors still open or closed after `since`, newest first."""
        if not uids:
            return []
        wanted, cut = list(uids), to_db(since)
        with db_session:
            q = select(i for i in self.db.Incident if i.monitor_uid in wanted)
            q = q.filter(lambda i: i.closed_at is None or i.closed_at >= cut)
            return [_incident(r) for r in q.order_by(lambda i: (desc(i.opened_at), desc(i.id)))[:limit]]

    def states(self, uids: Sequence[str]) -> dict[str, StateView]:
        """Current states of just these monitors, by primary key (CheckRepo.states reads them all)."""
        if not uids:
            return {}
        wanted = list(uids)
        with db_session:
            rows = select(s for s in self.db.MonitorStateRow if s.uid in wanted)[:]
            return {r.uid: state_view(r) for r in rows}

    def open_incident_counts(self) -> dict[str, int]:
        with db_session:
            rows = self.db.select(
                "SELECT monitor_uid, COUNT(*) FROM kk_incidents WHERE open_key IS NOT NULL "
                "GROUP BY monitor_uid"
            )
        return {uid: int(n) for uid, n in rows}

    def delivery_counts(self) -> dict[str, int]:
        with db_session:
            rows = self.db.select("SELECT status, COUNT(*) FROM kk_deliveries GROUP BY status")
        return {status: int(n) for status, n in rows}

    def checks_recorded(self) -> int:
        """Checks recorded since the database began, over every worker (monotonic)."""
        with db_session:
            return int(self.db.select("SELECT COALESCE(SUM(checks), 0) FROM kk_monitor_state")[0])


class HeartbeatPages:
    """The raw heartbeat list of one monitor, paged by time: the API's heartbeat history.

    Newest first along the (monitor_uid, time) index; the cursor is the id of the last
    heartbeat of the previous page, so pages neither skip nor repeat rows that share a time.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def page(
        self,
        uid: str,
        limit: int = 50,
        before: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[HeartbeatView]:
        with db_session:
            q = select(h for h in self.db.Heartbeat if h.monitor_uid == uid)
            if since is not None:
                lo = to_db(since)
                q = q.filter(lambda h: h.time >= lo)
            if until is not None:
                hi = to_db(until)
                q = q.filter(lambda h: h.time < hi)
            if before is not None:
                edge = self.db.Heartbeat.get(id=before)
                if edge is not None and edge.monitor_uid == uid:
                    t = edge.time
                    q = q.filter(lambda h: h.time < t or (h.time == t and h.id < before))
                else:
                    q = q.filter(lambda h: h.id < before)
            rows = q.order_by(lambda h: (desc(h.time), desc(h.id)))[:limit]
            return [
                HeartbeatView(
                    h.id, iso(h.time), h.state, h.ok, h.latency_ms, h.reason or "", h.failure, h.details
                )
                for h in rows
            ]
