"""Recording finished checks: a batch in one transaction and a few statements.

Each check writes its heartbeat, its monitor's state row and the uptime rollups and, when
the state changed, the transition row (the outbox) stamped with the incident it opened or
closed; all of it in the transaction that locked the state rows, so the order of outages
never depends on how messages travel afterwards (see app.store.incidents).

For n checks of distinct monitors that costs one statement locking and reading the n state
rows (ORDER BY uid FOR UPDATE on PostgreSQL: two workers whose batches overlap take their
locks in the same order, so neither waits for the other in a cycle; SQLite serialises
writers anyway), one upsert of the state rows, one multi-row insert of the heartbeats and
one upsert of the rollups, summed per monitor and bucket first. Only when they apply: one
pair for monitors with no state row (new, or deleted while checked), one for outages going
on (the incident keeps the latest reason), a few for the state changes (rare). A batch that
names a monitor twice is recorded in rounds: a monitor's k-th check in round k, after its
check before, exactly as if they had come one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pony.orm import Database

from app.model import CheckResult, Decision, FailureClass, MonitorSnapshot, State
from app.store.incidents import (
    IncidentChange,
    IncidentStep,
    apply_incident_changes,
    incident_step,
    open_incidents,
)
from app.store.rawsql import Raw, chunks, read_time
from app.store.timeutil import to_db


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


class FirstCheckRace(Exception):
    """Another transaction recorded the first check of a monitor this batch took for new.

    The batch's transaction rolls back and the caller records it again, now seeing that check's
    state, as a duplicate primary key made it do when the state row was an entity."""


@dataclass(slots=True)
class _Decided:
    index: int  # in the batch
    item: CheckToRecord
    decision: Decision
    new: bool  # no state row: the monitor's first check (or first since it was deleted and added again)

    @property
    def failure(self) -> str | None:
        f = self.decision.snapshot.failure
        return f.value if f else None


Sums = dict[tuple[str, str, datetime], list[float]]  # (uid, resolution, bucket) -> up, down, mnt, lsum, lcnt


def buckets(t: datetime) -> tuple[tuple[str, datetime], ...]:
    minute = t.replace(second=0, microsecond=0)
    return (("m", minute), ("h", minute.replace(minute=0)), ("d", minute.replace(hour=0, minute=0)))


def record_batch(db: Database, dialect: str, items: Sequence[CheckToRecord]) -> list[Recorded | None]:
    """Inside the caller's db_session: record every item; one answer per item in the order given
    (None for a monitor deleted while it was checked: recording it would bring it back as a new
    monitor, and a new outage)."""
    out: list[Recorded | None] = [None] * len(items)
    if not items:
        return out
    raw = Raw(db, dialect)
    sums: Sums = {}
    for indexes in rounds([i.uid for i in items]):
        decided = _lock_and_decide(raw, [(i, items[i]) for i in indexes])
        if decided:
            _write(raw, decided, out)
            _add_rollups(sums, decided)
    _write_rollups(raw, sums)
    return out


def rounds(uids: Sequence[str]) -> list[list[int]]:
    """Indexes of the batch in rounds of distinct monitors: a monitor's k-th check goes in round k.

    Every monitor of a later round is in the first, so only the first round takes new locks."""
    seen: dict[str, int] = {}
    out: list[list[int]] = []
    for i, uid in enumerate(uids):
        k = seen.get(uid, 0)
        seen[uid] = k + 1
        if k == len(out):
            out.append([])
        out[k].append(i)
    return out


def _lock_and_decide(raw: Raw, batch: list[tuple[int, CheckToRecord]]) -> list[_Decided]:
    uids = sorted(item.uid for _, item in batch)
    prev = _lock_states(raw, uids)
    missing = [u for u in uids if u not in prev]
    gone = _deleted(raw, missing) if missing else set()
    return [
        _Decided(i, item, item.decide(prev.get(item.uid)), item.uid not in prev)
        for i, item in batch
        if item.uid not in gone
    ]


def _lock_states(raw: Raw, uids: list[str]) -> dict[str, MonitorSnapshot]:
    lock = " FOR UPDATE" if raw.dialect == "postgres" else ""
    out: dict[str, MonitorSnapshot] = {}
    for part in chunks(uids, 1):
        where, params = raw.member("uid", part)
        sql = f"SELECT uid, state, since, failures, reason, failure FROM kk_monitor_state WHERE {where} "
        for uid, state, since, failures, reason, failure in raw.rows(sql + f"ORDER BY uid{lock}", params):
            out[uid] = MonitorSnapshot(
                state=State(state),
                since=read_time(since),
                failures=failures,
                reason=reason or "",
                failure=FailureClass(failure) if failure else None,
            )
    return out


def _deleted(raw: Raw, uids: list[str]) -> set[str]:
    """Of monitors with no state (new, or deleted a moment ago), those deleted: their tombstone is
    there and their resource is not. Locking the resource rows holds off a deletion until this
    batch commits."""
    lock = " FOR UPDATE" if raw.dialect == "postgres" else ""
    present: set[str] = set()
    for part in chunks(uids, 1):
        where, params = raw.member("uid", part)
        sql = f"SELECT uid FROM kk_resources WHERE {where} ORDER BY uid{lock}"
        present.update(r[0] for r in raw.rows(sql, params))
    keys = [f"forgotten:{u}" for u in uids if u not in present]
    gone: set[str] = set()
    for part in chunks(keys, 1):
        where, params = raw.member("key", part)
        gone.update(r[0].split(":", 1)[1] for r in raw.rows(f"SELECT key FROM kk_meta WHERE {where}", params))
    return gone


_STATE_COLUMNS = (
    *("uid", "state", "since", "failures", "reason", "failure"),
    *("last_check_at", "latency_ms", "details", "checks"),
)
# `checks` in the VALUES says which rows the batch found: 0 for a row it locked (then the row is
# updated and counts one more check), 1 for a monitor it took for new (then it is inserted; if
# another transaction inserted it meanwhile, the WHERE skips it and the count tells).
_ON_CONFLICT_STATE = (
    " ON CONFLICT (uid) DO UPDATE SET state = excluded.state, since = excluded.since, "
    "failures = excluded.failures, reason = excluded.reason, failure = excluded.failure, "
    "last_check_at = excluded.last_check_at, latency_ms = excluded.latency_ms, details = excluded.details, "
    "checks = kk_monitor_state.checks + 1 WHERE excluded.checks = 0"
)
_HEARTBEAT_COLUMNS = ("monitor_uid", "time", "state", "ok", "latency_ms", "reason", "failure", "details")
_TRANSITION_COLUMNS = (
    *("monitor_uid", "from_state", "to_state", "at", "reason", "failure", "status", "attempts"),
)
_ROLLUP_COLUMNS = (
    *("monitor_uid", "resolution", "bucket", "up", "down", "maintenance", "latency_sum", "latency_count"),
)
_ON_CONFLICT_ROLLUP = (
    " ON CONFLICT (monitor_uid, resolution, bucket) DO UPDATE SET "
    "up = kk_uptime.up + excluded.up, down = kk_uptime.down + excluded.down, "
    "maintenance = kk_uptime.maintenance + excluded.maintenance, "
    "latency_sum = kk_uptime.latency_sum + excluded.latency_sum, "
    "latency_count = kk_uptime.latency_count + excluded.latency_count"
)


def _upsert(raw: Raw, table: str, columns: Sequence[str], rows: list[list[object]], tail: str) -> int:
    done = 0
    for part in chunks(rows, len(columns)):
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {raw.rows_marks(len(part), len(columns))}"
        done += raw.run(sql + tail, [v for row in part for v in row])
    return done


def _write(raw: Raw, decided: list[_Decided], out: list[Recorded | None]) -> None:
    """One round (distinct monitors, their state rows locked): state rows, heartbeats, transitions
    and incidents."""
    ordered = sorted(decided, key=lambda d: d.item.uid)  # rows in lock order
    states = []
    for d in ordered:
        snap, result = d.decision.snapshot, d.item.result
        states.append(
            [
                d.item.uid,
                snap.state.value,
                raw.time(snap.since),
                snap.failures,
                snap.reason[:2000],
                d.failure,
                raw.time(d.item.now),
                result.latency_ms,
                raw.json(result.details or None),
                1 if d.new else 0,
            ]
        )
    if _upsert(raw, "kk_monitor_state", _STATE_COLUMNS, states, _ON_CONFLICT_STATE) != len(states):
        raise FirstCheckRace("another check recorded a new monitor of this batch first; record again")
    beats = []
    for d in ordered:
        snap, result = d.decision.snapshot, d.item.result
        beats.append(
            [
                d.item.uid,
                raw.time(d.item.now),
                snap.state.value,
                d.decision.ok,
                result.latency_ms,
                snap.reason[:2000],
                d.failure,
                raw.json(result.details or None),
            ]
        )
    heartbeat_ids = raw.insert("kk_heartbeats", _HEARTBEAT_COLUMNS, beats, key="monitor_uid")
    changed = [d for d in ordered if d.decision.changed]
    transition_ids: dict[str, int] = {}
    if changed:
        rows = []
        for d in changed:
            snap, prev = d.decision.snapshot, d.decision.previous
            rows.append(
                [
                    d.item.uid,
                    prev.value if prev else None,
                    snap.state.value,
                    raw.time(d.item.now),
                    snap.reason[:2000],
                    d.failure,
                    "pending",
                    0,
                ]
            )
        transition_ids = raw.insert("kk_transitions", _TRANSITION_COLUMNS, rows, key="monitor_uid")
    _incidents(raw, ordered, transition_ids)
    for d in decided:
        out[d.index] = Recorded(d.decision, heartbeat_ids[d.item.uid], transition_ids.get(d.item.uid))


def _incidents(raw: Raw, decided: list[_Decided], transition_ids: dict[str, int]) -> None:
    """Only checks that see DOWN, or UP after a change, can touch an incident: read those monitors'
    open incidents, then let `incident_step` say what each check does."""
    concerned = [
        d
        for d in decided
        if d.decision.snapshot.state == State.DOWN
        or (d.decision.snapshot.state == State.UP and d.decision.changed)
    ]
    if not concerned:
        return
    open_ids = open_incidents(raw, [d.item.uid for d in concerned])
    changes = []
    for d in concerned:
        uid, snap = d.item.uid, d.decision.snapshot
        step = incident_step(snap.state, d.decision.changed, uid in open_ids)
        if step != IncidentStep.NONE:
            changes.append(
                IncidentChange(
                    uid,
                    step,
                    to_db(d.item.now),
                    snap.reason,
                    d.failure,
                    transition_ids.get(uid),
                    open_ids.get(uid),
                )
            )
    apply_incident_changes(raw, changes)


def _add_rollups(sums: Sums, decided: list[_Decided]) -> None:
    for d in decided:
        state, latency = d.decision.snapshot.state, d.item.result.latency_ms
        up = 1 if state == State.UP else 0
        mnt = 1 if state == State.MAINTENANCE else 0
        for resolution, bucket in buckets(to_db(d.item.now)):
            row = sums.setdefault((d.item.uid, resolution, bucket), [0, 0, 0, 0.0, 0])
            row[0] += up
            row[1] += 1 - up - mnt  # PENDING counts as down
            row[2] += mnt
            row[3] += float(latency or 0.0)
            row[4] += 1 if latency is not None else 0


def _write_rollups(raw: Raw, sums: Sums) -> None:
    rows: list[list[object]] = [
        [uid, res, raw.bucket(b), int(s[0]), int(s[1]), int(s[2]), s[3], int(s[4])]
        for (uid, res, b), s in sorted(sums.items())
    ]
    _upsert(raw, "kk_uptime", _ROLLUP_COLUMNS, rows, _ON_CONFLICT_ROLLUP)
