"""Recording a batch of checks in one transaction: the same records as one check at a time.

Runs once on SQLite and once on PostgreSQL (see `db_url` in tests/conftest.py); the two
concurrency tests need PostgreSQL's row locks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.alerting.state import RetryPolicy, next_state
from app.model import CheckResult, Decision, FailureClass, MonitorSnapshot, State
from app.store import CheckToRecord, Recorded, Store
from app.store.incidents import IncidentStep, incident_step
from app.store.recording import FirstCheckRace, rounds
from tests.store.test_store import rec

NOW = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)
OK = CheckResult.up(latency_ms=20.0)
FAIL = CheckResult.down(FailureClass.REFUSED, "connection refused")
TIMEOUT = CheckResult.down(FailureClass.TIMEOUT, "timed out after 10s", latency_ms=10000.0)
MAINT = "maintenance"


def item(uid: str, step: Any, at: datetime, retries: int = 0) -> CheckToRecord:
    result = FAIL if step == MAINT else step
    policy, maintenance = RetryPolicy(retries), step == MAINT

    def decide(prev: MonitorSnapshot | None) -> Decision:
        return next_state(prev, result, policy, maintenance, at)

    return CheckToRecord(uid, result, decide, at)


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def events(store: Store, uid: str) -> list[tuple[str | None, str, str | None, int | None]]:
    """(from, to, event, incident) of every transition, oldest first."""
    return [(t.from_state, t.to_state, t.event, t.incident_id) for t in reversed(store.transitions.list(uid))]


# --- the pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "changed", "has_open", "step"),
    [
        (State.DOWN, True, False, IncidentStep.OPEN),
        (State.DOWN, True, True, IncidentStep.KEEP_REASON),  # DOWN again after maintenance: same outage
        (State.DOWN, False, True, IncidentStep.KEEP_REASON),
        (State.DOWN, False, False, IncidentStep.NONE),
        (State.UP, True, True, IncidentStep.CLOSE),
        (State.UP, True, False, IncidentStep.NONE),
        (State.UP, False, True, IncidentStep.NONE),
        (State.MAINTENANCE, True, True, IncidentStep.NONE),  # maintenance ends nothing
        (State.PENDING, True, True, IncidentStep.NONE),
    ],
    ids=lambda v: str(v),
)
def test_incident_step(state: State, changed: bool, has_open: bool, step: IncidentStep) -> None:
    assert incident_step(state, changed, has_open) == step


@pytest.mark.parametrize(
    ("uids", "expected"),
    [
        (["a", "b", "c"], [[0, 1, 2]]),
        (["a", "b", "a", "a", "c", "b"], [[0, 1, 4], [2, 5], [3]]),
        ([], []),
    ],
    ids=["distinct", "repeats", "empty"],
)
def test_rounds_put_a_monitors_kth_check_in_round_k(uids: list[str], expected: list[list[int]]) -> None:
    assert rounds(uids) == expected


# --- a batch on both databases ------------------------------------------------------------------------


def test_a_batch_writes_states_heartbeats_and_rollups(store: Store) -> None:
    minute = NOW.replace(second=0)
    store.checks.record("c", OK, lambda p: next_state(p, OK, RetryPolicy(), False, minute), minute)

    out = store.checks.record_many(
        [item("a", OK, minute + timedelta(seconds=1)), item("b", FAIL, minute + timedelta(seconds=2)),
         item("c", TIMEOUT, minute + timedelta(seconds=3))]
    )  # fmt: skip

    assert [r.decision.snapshot.state if r else None for r in out] == ["UP", "DOWN", "DOWN"]
    states = store.checks.states(["a", "b", "c"])
    assert {u: (s.state, s.checks, s.reason, s.failure, s.latency_ms) for u, s in states.items()} == {
        "a": ("UP", 1, "", None, 20.0),
        "b": ("DOWN", 1, "connection refused", "refused", None),
        "c": ("DOWN", 2, "timed out after 10s", "timeout", 10000.0),
    }
    assert states["c"].since == states["c"].last_check_at == minute + timedelta(seconds=3)
    [beat] = store.checks.heartbeats("b")
    assert beat.id == out[1].heartbeat_id  # type: ignore[union-attr]
    assert (beat.time, beat.state, beat.ok, beat.reason, beat.failure) == (
        "2024-05-01T12:30:02Z", "DOWN", False, "connection refused", "refused",
    )  # fmt: skip
    assert [h.state for h in store.checks.heartbeats("c")] == ["DOWN", "UP"]
    day = minute.replace(hour=0, minute=0)
    for resolution in ("m", "h", "d"):
        assert store.checks.uptime("c", since=day, resolution=resolution) == {
            "ratio": 0.5,
            "avgLatencyMs": (20.0 + 10000.0) / 2,
        }
        assert store.checks.uptime("a", since=day, resolution=resolution)["ratio"] == 1.0


def test_transitions_only_for_changes_and_incidents_open_and_close(store: Store) -> None:
    store.checks.record_many([item("steady", OK, at(0)), item("flaps", OK, at(0)), item("down", FAIL, at(0))])
    [opened] = store.incidents.list("down", open_only=True)

    out = store.checks.record_many(
        [item("steady", OK, at(60)), item("flaps", FAIL, at(60)), item("down", TIMEOUT, at(60))]
    )

    assert [r.transition_id is not None for r in out if r] == [False, True, False]
    assert events(store, "steady") == [(None, "UP", None, None)]
    [flap_incident] = store.incidents.list("flaps", open_only=True)
    assert events(store, "flaps")[-1] == ("UP", "DOWN", "down", flap_incident.id)
    assert flap_incident.opened_at == at(60)
    still = store.incidents.open_for("down")
    assert still is not None and still.id == opened.id
    assert (still.first_reason, still.last_reason) == ("connection refused", "timed out after 10s")

    closing = store.checks.record_many([item("down", OK, at(120)), item("flaps", OK, at(120))])

    assert all(r is not None and r.transition_id is not None for r in closing)
    assert store.incidents.list(open_only=True) == []
    closed = store.incidents.get(opened.id)
    assert closed is not None and closed.closed_at == at(120)
    assert events(store, "down")[-1] == ("DOWN", "UP", "up", opened.id)
    assert events(store, "flaps")[-1] == ("DOWN", "UP", "up", flap_incident.id)


def test_maintenance_during_an_outage_in_one_batch_keeps_the_incident(store: Store) -> None:
    out = store.checks.record_many(
        [item("m", OK, at(0)), item("m", FAIL, at(1)), item("m", MAINT, at(2)), item("m", OK, at(3))]
    )

    [incident] = store.incidents.list("m")
    assert incident.closed_at == at(3)
    assert [r.decision.snapshot.state for r in out if r] == ["UP", "DOWN", "MAINTENANCE", "UP"]
    assert events(store, "m") == [
        (None, "UP", None, None),
        ("UP", "DOWN", "down", incident.id),
        ("DOWN", "MAINTENANCE", None, None),
        ("MAINTENANCE", "UP", "up", incident.id),
    ]


def test_a_monitor_deleted_while_checked_gets_none_and_nothing_is_written(store: Store) -> None:
    store.resources.sync([rec("web"), rec("api")])
    web, api = "uid-Monitor-web", "uid-Monitor-api"
    store.checks.record_many([item(web, OK, at(0)), item(web, FAIL, at(1))])
    store.resources.sync([rec("api")])  # web deleted while a batch with it was being checked
    beats = store.checks.count_heartbeats(web)

    out = store.checks.record_many([item(web, FAIL, at(2)), item(api, FAIL, at(2)), item(web, OK, at(3))])

    assert out[0] is None and out[2] is None
    assert out[1] is not None and out[1].decision.snapshot.state == "DOWN"  # new with its resource: recorded
    assert store.checks.states([web]) == {}
    assert store.checks.count_heartbeats(web) == beats
    assert store.incidents.open_for(web) is None
    assert [e[1] for e in events(store, web)] == ["UP", "DOWN"]  # nothing after the deletion
    assert store.checks.uptime(web, since=NOW.replace(minute=0, second=0), resolution="h")["ratio"] == 0.5


def test_duplicates_in_a_batch_are_recorded_in_order(store: Store) -> None:
    out = store.checks.record_many(
        [item("a", FAIL, at(0), retries=1), item("b", OK, at(0)), item("a", FAIL, at(1), retries=1),
         item("a", FAIL, at(2), retries=1), item("b", OK, at(1)), item("a", OK, at(3), retries=1)]
    )  # fmt: skip

    answers = [(r.decision.snapshot.state, r.decision.snapshot.failures, r.transition_id is not None)
               for r in out if r]  # fmt: skip
    assert answers == [
        ("PENDING", 1, True), ("UP", 0, True), ("DOWN", 2, True),
        ("DOWN", 3, False), ("UP", 0, False), ("UP", 0, True),
    ]  # fmt: skip
    assert store.checks.states(["a"])["a"].checks == 4
    beats = store.checks.heartbeats("a")
    assert [h.state for h in beats] == ["UP", "DOWN", "DOWN", "PENDING"]  # newest first
    assert [h.id for h in reversed(beats)] == [out[i].heartbeat_id for i in (0, 2, 3, 5)]  # type: ignore[union-attr]
    [incident] = store.incidents.list("a")
    assert incident.opened_at == at(1) and incident.closed_at == at(3)
    assert store.checks.uptime("a", since=NOW.replace(minute=0, second=0))["ratio"] == 0.25


def test_an_empty_batch_is_an_empty_answer(store: Store) -> None:
    assert store.checks.record_many([]) == []


def test_nul_characters_from_a_target_are_stored_as_replacement_characters(store: Store) -> None:
    """PostgreSQL refuses NUL in text and \\u0000 in jsonb: a server that sends NUL bytes must not
    cost the batch it is in (nor its own heartbeat)."""
    first = CheckResult.down(
        FailureClass.MISMATCH, "got \x00hi\x00", 3.0, received="\x00hi", n={"k\x00": ["v\x00"]}
    )
    again = CheckResult.down(FailureClass.MISMATCH, "still \x00", 3.0, received="\x00")

    out = store.checks.record_many([item("nul", first, at(0)), item("fine", OK, at(0))])
    store.checks.record_many([item("nul", again, at(60))])

    assert [r.decision.snapshot.state if r else None for r in out] == ["DOWN", "UP"]
    state = store.checks.states(["nul"])["nul"]
    assert (state.reason, state.details) == ("still \ufffd", {"received": "\ufffd"})
    oldest = store.checks.heartbeats("nul")[-1]
    assert oldest.reason == "got \ufffdhi\ufffd"
    assert oldest.details == {"received": "\ufffdhi", "n": {"k\ufffd": ["v\ufffd"]}}
    [transition] = store.transitions.list("nul")
    assert transition.reason == "got \ufffdhi\ufffd"
    [incident] = store.incidents.list("nul")
    assert (incident.first_reason, incident.last_reason) == ("got \ufffdhi\ufffd", "still \ufffd")


# --- the same as one by one, for any sequence ------------------------------------------------------

STEPS = {"ok": OK, "fail": FAIL, "timeout": TIMEOUT, "maint": MAINT}
_examples = [0]


def _view(store: Store, uid: str) -> dict[str, Any]:
    """Everything a user can read about a monitor, ids replaced by positions."""
    transitions = list(reversed(store.transitions.list(uid)))
    incidents = list(reversed(store.incidents.list(uid)))
    incident_pos = {i.id: n for n, i in enumerate(incidents)}
    s = store.checks.states([uid]).get(uid)
    hour = NOW.replace(minute=0, second=0)
    return {
        "state": s and (s.state, s.since, s.last_check_at, s.reason, s.failure, s.latency_ms, s.checks),
        "heartbeats": [
            (h.time, h.state, h.ok, h.latency_ms, h.reason, h.failure)
            for h in store.checks.heartbeats(uid, limit=500)
        ],
        "transitions": [
            (t.from_state, t.to_state, t.at, t.reason, t.event, incident_pos.get(t.incident_id or -1))
            for t in transitions
        ],
        "incidents": [
            (i.opened_at, i.closed_at, i.first_reason, i.last_reason, i.failure) for i in incidents
        ],
        "uptime": [store.checks.uptime(uid, since=hour - timedelta(days=1), resolution=r) for r in "mhd"],
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from(sorted(STEPS)), st.booleans()), min_size=1, max_size=24
    )
)
def test_a_batch_records_exactly_what_one_by_one_would(
    store: Store, steps: list[tuple[int, str, bool]]
) -> None:
    """Any sequence of checks over three monitors (retries 0, 1, 2), cut into batches anywhere."""
    _examples[0] += 1
    n = _examples[0]
    one, many = f"one{n}-", f"many{n}-"
    single: list[Recorded | None] = []
    batched: list[Recorded | None] = []
    batch: list[CheckToRecord] = []
    for i, (m, step, cut) in enumerate(steps):
        when = at(i * 7)  # across minute buckets
        x = item(f"{one}{m}", STEPS[step], when, retries=m)
        single.append(store.checks.record(x.uid, x.result, x.decide, x.now))
        batch.append(item(f"{many}{m}", STEPS[step], when, retries=m))
        if cut:
            batched += store.checks.record_many(batch)
            batch = []
    batched += store.checks.record_many(batch)

    assert [(r.decision, r.transition_id is None) for r in single if r] == [
        (r.decision, r.transition_id is None) for r in batched if r
    ]
    for m in range(3):
        assert _view(store, f"{many}{m}") == _view(store, f"{one}{m}")


# --- PostgreSQL: workers whose batches overlap ---------------------------------------------------------


@pytest.fixture
def pg_store(pg_url: str):  # type: ignore[no-untyped-def]
    s = Store(pg_url)
    yield s
    s.close()


def _run(threads: list[Callable[[], Any]], timeout: float = 60.0) -> list[Any]:
    results: list[Any] = [None] * len(threads)

    def wrap(k: int) -> None:
        try:
            results[k] = threads[k]()
        except BaseException as exc:
            results[k] = exc

    ts = [threading.Thread(target=wrap, args=(k,)) for k in range(len(threads))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout)
        assert not t.is_alive(), "a batch never finished"
    return results


def test_two_overlapping_batches_on_postgres_do_not_deadlock(pg_store: Store) -> None:
    """Two workers record batches naming the same monitors in opposite orders, each holding its locks
    a while: they take turns, and every check is counted once."""
    uids = [f"m{k:02d}" for k in range(40)]
    pg_store.checks.record_many([item(u, OK, at(0)) for u in uids])
    rounds_each = 5

    def worker(order: list[str], offset: float) -> int:
        done = 0
        for r in range(rounds_each):
            batch = [item(u, FAIL if r % 2 else OK, at(1 + r * 10 + offset)) for u in order]
            slow = batch[0].decide

            def dawdle(prev: MonitorSnapshot | None, slow: Any = slow) -> Decision:
                time.sleep(0.02)  # hold the locks while the other batch wants them
                return slow(prev)  # type: ignore[no-any-return]

            batch[0].decide = dawdle
            done += sum(1 for x in pg_store.checks.record_many(batch) if x is not None)
        return done

    results = _run([lambda: worker(uids, 0.0), lambda: worker(list(reversed(uids)), 0.5)])

    assert results == [len(uids) * rounds_each] * 2
    states = pg_store.checks.states(uids)
    assert {s.checks for s in states.values()} == {1 + 2 * rounds_each}
    assert pg_store.checks.count_heartbeats() == len(uids) * (1 + 2 * rounds_each)


def test_a_first_check_raced_by_another_transaction_rolls_back(pg_store: Store, pg_url: str) -> None:
    """Two first checks of one new monitor at once: the second must not overwrite the first's state
    (and announce the monitor's arrival twice); it fails, and recorded again it follows the first."""
    other = psycopg2.connect(pg_url)
    try:
        with other.cursor() as cur:  # another worker's first check, not yet committed
            cur.execute(
                "INSERT INTO kk_monitor_state (uid, state, since, failures, reason, checks) "
                "VALUES ('new', 'UP', %s, 0, '', 1)",
                (NOW.replace(tzinfo=None),),
            )
        pending = _run_later(lambda: pg_store.checks.record_many([item("new", FAIL, at(5))]))
        time.sleep(0.5)  # the batch read no state row and now waits on the other's insert
        other.commit()
        result = pending()
    finally:
        other.close()

    assert isinstance(result, FirstCheckRace)
    assert pg_store.checks.states(["new"])["new"].checks == 1
    assert pg_store.checks.count_heartbeats("new") == 0
    [again] = pg_store.checks.record_many([item("new", FAIL, at(5))])
    assert again is not None and again.decision.previous == "UP" and again.decision.snapshot.state == "DOWN"
    assert pg_store.checks.states(["new"])["new"].checks == 2


def _run_later(fn: Callable[[], Any]) -> Callable[[], Any]:
    box: list[Any] = []
    t = threading.Thread(target=lambda: box.append(_catch(fn)))
    t.start()

    def result() -> Any:
        t.join(30)
        assert not t.is_alive()
        return box[0]

    return result


def _catch(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:
        return exc


def test_states_of_more_monitors_than_one_statement_names(store: Store) -> None:
    uids = [f"s{k:04d}" for k in range(1201)]
    store.checks.record_many([item(u, OK if k % 3 else FAIL, at(k)) for k, u in enumerate(uids)])

    some = store.checks.states([*uids[:1001], "unknown"])
    everything = store.checks.states()

    assert sorted(some) == uids[:1001]
    assert len(everything) == 1201
    assert (everything["s0003"].state, everything["s0004"].state) == ("DOWN", "UP")
    assert everything["s1200"].last_check_at == at(1200) and everything["s1200"].details is None
