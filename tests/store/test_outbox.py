"""Incidents decided by the check, the transition outbox's claims, and forgetting a deleted monitor.

Runs once on SQLite and once on PostgreSQL (see `db_url` in tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pony.orm import Database, db_session

from app.alerting.state import RetryPolicy, next_state
from app.model import CheckResult, FailureClass, TransitionStatus
from app.store import Store
from tests.store.test_store import rec

NOW = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)
OK = CheckResult.up(latency_ms=20.0)
FAIL = CheckResult.down(FailureClass.REFUSED, "connection refused")
MAINT = "maintenance"


def play(store: Store, uid: str, steps: list[Any], retries: int = 0) -> list[Any]:
    """Record one check per step (OK, FAIL or MAINT), a minute apart; returns the Recorded of each."""
    out = []
    for i, step in enumerate(steps):
        at = NOW + timedelta(minutes=i)
        result = FAIL if step == MAINT else step

        def decide(prev: Any, r: CheckResult = result, a: datetime = at, m: bool = step == MAINT) -> Any:
            return next_state(prev, r, RetryPolicy(retries), m, a)

        out.append(store.checks.record(uid, result, decide, at))
    return out


def events(store: Store, uid: str) -> list[tuple[str, str | None, int | None]]:
    """(to_state, event, incident) of every transition, oldest first."""
    return [(t.to_state, t.event, t.incident_id) for t in reversed(store.transitions.list(uid))]


def test_an_outage_opens_an_incident_and_the_recovery_closes_it(store: Store) -> None:
    play(store, "m1", [OK, FAIL, FAIL, OK])

    [incident] = store.incidents.list("m1")
    assert incident.opened_at == NOW + timedelta(minutes=1)
    assert incident.closed_at == NOW + timedelta(minutes=3)
    assert events(store, "m1") == [
        ("UP", None, None),
        ("DOWN", "down", incident.id),
        ("UP", "up", incident.id),
    ]


def test_maintenance_during_an_outage_keeps_the_incident_and_the_recovery_is_announced(store: Store) -> None:
    play(store, "m1", [OK, FAIL, MAINT, MAINT, OK])

    [incident] = store.incidents.list("m1")
    assert incident.closed_at == NOW + timedelta(minutes=4)  # closed by the UP after maintenance
    assert events(store, "m1") == [
        ("UP", None, None),
        ("DOWN", "down", incident.id),
        ("MAINTENANCE", None, None),  # entering maintenance is quiet and ends nothing
        ("UP", "up", incident.id),  # the recovery after it closes the outage and is news
    ]


def test_still_failing_after_maintenance_continues_the_same_incident(store: Store) -> None:
    play(store, "m1", [OK, FAIL, MAINT, FAIL, OK])

    [incident] = store.incidents.list("m1")
    assert events(store, "m1") == [
        ("UP", None, None),
        ("DOWN", "down", incident.id),
        ("MAINTENANCE", None, None),
        ("DOWN", None, None),  # no second DOWN for an outage already announced
        ("UP", "up", incident.id),
    ]


def test_a_failure_that_recovers_during_retries_opens_nothing(store: Store) -> None:
    play(store, "m1", [OK, FAIL, OK], retries=2)

    assert store.incidents.list("m1") == []
    assert [e for e in events(store, "m1") if e[1]] == []


def test_a_new_monitor_that_starts_down_opens_an_incident(store: Store) -> None:
    play(store, "m1", [FAIL])

    [incident] = store.incidents.list("m1", open_only=True)
    assert events(store, "m1") == [("DOWN", "down", incident.id)]


def test_the_open_incident_keeps_the_latest_reason(store: Store) -> None:
    play(store, "m1", [FAIL])
    timeout = CheckResult.down(FailureClass.TIMEOUT, "timed out after 10s")
    later = NOW + timedelta(minutes=1)
    store.checks.record(
        "m1", timeout, lambda prev: next_state(prev, timeout, RetryPolicy(), False, later), later
    )

    incident = store.incidents.open_for("m1")
    assert incident is not None
    assert (incident.first_reason, incident.last_reason) == ("connection refused", "timed out after 10s")


# --- the outbox's claims ---------------------------------------------------------------------------


def test_transitions_are_handed_out_oldest_first_one_at_a_time(store: Store) -> None:
    recs = play(store, "m1", [OK, FAIL, OK])
    ids = [r.transition_id for r in recs]
    repo = store.transitions

    first = repo.next_for("m1", ids[-1], "w1", NOW, lease_s=30)
    assert first.transition is not None and first.transition.id == ids[0]
    # while the first is claimed by a live holder, nothing later is handed out
    assert repo.next_for("m1", ids[-1], "w2", NOW, lease_s=30, alive=lambda h: True).busy
    assert repo.finish(ids[0], first.transition.token or "", TransitionStatus.HANDLED, NOW)
    second = repo.next_for("m1", ids[-1], "w2", NOW, lease_s=30)
    assert second.transition is not None and second.transition.id == ids[1]
    # a message for transition 2 handles nothing after it
    assert repo.finish(ids[1], second.transition.token or "", TransitionStatus.HANDLED, NOW)
    assert repo.next_for("m1", ids[1], "w2", NOW, lease_s=30).transition is None


def test_a_dead_holders_claim_is_retaken_at_once_and_a_live_ones_after_the_lease(store: Store) -> None:
    [r] = play(store, "m1", [FAIL])
    repo, tid = store.transitions, r.transition_id

    held = repo.next_for("m1", tid, "w1", NOW, lease_s=30).transition
    assert held is not None
    assert repo.next_for("m1", tid, "w2", NOW + timedelta(seconds=1), 30, alive=lambda h: h == "w1").busy
    retaken = repo.next_for("m1", tid, "w2", NOW + timedelta(seconds=1), 30, alive=lambda h: False).transition
    assert retaken is not None and retaken.attempts == 2
    # the first holder's token no longer finishes it
    assert not repo.finish(tid, held.token or "", TransitionStatus.HANDLED, NOW)
    assert repo.finish(tid, retaken.token or "", TransitionStatus.HANDLED, NOW)
    assert repo.get(tid).status == TransitionStatus.HANDLED  # type: ignore[union-attr]


def test_a_transition_gives_up_visibly_after_its_attempts(store: Store) -> None:
    [r] = play(store, "m1", [FAIL])
    repo, tid = store.transitions, r.transition_id
    for i in range(3):
        c = repo.next_for("m1", tid, "w", NOW + timedelta(seconds=i), 30, max_attempts=3)
        assert c.transition is not None
        repo.release(tid, c.transition.token or "", "provider config exploded")

    last = repo.next_for("m1", tid, "w", NOW + timedelta(seconds=9), 30, max_attempts=3)
    assert last.gave_up is not None and last.transition is None
    failed = repo.get(tid)
    assert failed is not None and failed.status == TransitionStatus.FAILED
    assert failed.note == "gave up after 3 attempts: provider config exploded"


def test_the_sweeper_finds_lost_messages_and_dead_holders_only(store: Store) -> None:
    a, b, c = (play(store, uid, [FAIL])[0].transition_id for uid in ("a", "b", "c"))
    repo = store.transitions
    repo.next_for("b", b, "alive-worker", NOW, 30)
    repo.next_for("c", c, "dead-worker", NOW, 30)
    later = NOW + timedelta(seconds=10)

    assert (
        repo.stuck(NOW + timedelta(seconds=1), grace_s=5, lease_s=30, alive=lambda h: h != "dead-worker")
        == []
    )
    stuck = repo.stuck(later, grace_s=5, lease_s=30, alive=lambda h: h != "dead-worker")
    assert stuck == [(a, "a"), (c, "c")]


# --- deleting a monitor -----------------------------------------------------------------------------


def test_deleting_a_monitor_closes_its_incident_quietly_and_readding_starts_afresh(store: Store) -> None:
    store.resources.sync([rec("web")])
    uid = "uid-Monitor-web"
    play(store, uid, [OK, FAIL])
    assert store.incidents.open_for(uid) is not None

    store.resources.sync([])  # the manifest is removed

    [incident] = store.incidents.list(uid)
    assert incident.closed_at is not None and incident.close_reason == "monitor deleted"
    assert store.checks.states([uid]) == {}

    store.resources.sync([rec("web")])  # the same manifest again
    first = play(store, uid, [FAIL])[0]
    assert first.decision.previous is None  # not the old DOWN revived
    new = store.incidents.open_for(uid)
    assert new is not None and new.id != incident.id
    assert events(store, uid)[-1] == ("DOWN", "down", new.id)  # the first failure is news again


def test_a_deleted_monitors_history_goes_at_the_next_prune(store: Store) -> None:
    store.resources.sync([rec("web"), rec("api")])
    play(store, "uid-Monitor-web", [OK, OK])
    play(store, "uid-Monitor-api", [OK])
    store.resources.sync([rec("api")])

    assert store.checks.prune_forgotten() == 2
    assert store.checks.count_heartbeats("uid-Monitor-web") == 0
    assert store.checks.count_heartbeats("uid-Monitor-api") == 1


# --- upgrading a version 1 database ------------------------------------------------------------------

ID = "INTEGER PRIMARY KEY AUTOINCREMENT"
V1_TABLES = {  # as version 1 made them (the tables version 2 changed, and kk_meta)
    "kk_meta": '"key" VARCHAR(100) PRIMARY KEY, "value" TEXT NOT NULL',
    "kk_transitions": f'"id" {ID}, "monitor_uid" VARCHAR(64) NOT NULL, "from_state" VARCHAR(16), '
    '"to_state" VARCHAR(16) NOT NULL, "at" DATETIME NOT NULL, "reason" VARCHAR(2000), "failure" VARCHAR(32), '
    '"claimed_at" DATETIME, "claimed_by" VARCHAR(200), "handled_at" DATETIME',
    "kk_incidents": f'"id" {ID}, "monitor_uid" VARCHAR(64) NOT NULL, "open_key" VARCHAR(64) UNIQUE, '
    '"opened_at" DATETIME NOT NULL, "closed_at" DATETIME, "first_reason" VARCHAR(2000), '
    '"last_reason" VARCHAR(2000), "failure" VARCHAR(32), "opened_by" BIGINT, "closed_by" BIGINT',
    "kk_deliveries": f'"id" {ID}, "event_key" VARCHAR(200) NOT NULL, "provider_uid" VARCHAR(64) NOT NULL, '
    '"monitor_uid" VARCHAR(64), "event" VARCHAR(32) NOT NULL, "status" VARCHAR(16) NOT NULL, '
    '"attempts" INTEGER NOT NULL, "last_error" VARCHAR(2000), "title" VARCHAR(1000), "body" VARCHAR(8000), '
    '"created_at" DATETIME NOT NULL, "sent_at" DATETIME, UNIQUE ("event_key", "provider_uid")',
    "kk_heartbeats": f'"id" {ID}, "monitor_uid" VARCHAR(64) NOT NULL, "time" DATETIME NOT NULL, '
    '"state" VARCHAR(16) NOT NULL, "ok" BOOLEAN NOT NULL, "latency_ms" REAL, "reason" VARCHAR(2000), '
    '"failure" VARCHAR(32), "details" JSON',
}


def v1_ddl(dialect: str) -> list[str]:
    out = [f'CREATE TABLE "{table}" ({columns})' for table, columns in V1_TABLES.items()]
    if dialect == "postgres":
        out = [
            q.replace(ID, "BIGSERIAL PRIMARY KEY").replace("DATETIME", "TIMESTAMP").replace(" JSON", " JSONB")
            for q in out
        ]
    return out


def test_a_version_1_database_is_upgraded_with_its_history(db_url: str) -> None:
    """The tables that version 2 changed, as version 1 made them, with rows of each kind."""
    raw = Database()
    if db_url.startswith("sqlite"):
        dialect = "sqlite"
        raw.bind(provider="sqlite", filename=db_url.split("sqlite:///", 1)[1], create_db=True)
    else:
        dialect = "postgres"
        raw.bind(provider="postgres", dsn=db_url)
    t0 = datetime(2024, 1, 1, 12, 0)
    with db_session(ddl=True):
        for q in v1_ddl(dialect):
            raw.execute(q)
        raw.execute("INSERT INTO kk_meta (key, value) VALUES ('schema_version', '1')")
        raw.execute(
            "INSERT INTO kk_transitions (id, monitor_uid, from_state, to_state, at, handled_at) VALUES "
            "(1, 'm1', 'UP', 'DOWN', $t, $t), (2, 'm1', 'DOWN', 'UP', $t, $t), "
            "(3, 'm2', 'UP', 'DOWN', $t, NULL)",
            {"t": t0},
        )
        raw.execute(
            "INSERT INTO kk_incidents (id, monitor_uid, open_key, opened_at, closed_at, opened_by, "
            "closed_by) VALUES (7, 'm1', NULL, $t, $t, 1, 2)",
            {"t": t0},
        )
        raw.execute(
            "INSERT INTO kk_deliveries (event_key, provider_uid, monitor_uid, event, status, attempts, "
            "created_at, sent_at) VALUES ('i:7:down', 'p', 'm1', 'down', 'sent', 1, $t, $t), "
            "('i:7:up', 'p', 'm1', 'up', 'sending', 1, $t, $t)",
            {"t": t0},
        )
        if dialect == "postgres":  # rows inserted with their ids: move the sequences past them
            raw.execute("SELECT setval('kk_transitions_id_seq', 10)")
            raw.execute("SELECT setval('kk_incidents_id_seq', 10)")
    raw.disconnect()

    store = Store(db_url)
    try:
        assert store.schema_version() == 3  # and version 3 added the acknowledgement columns
        by_id = {t.id: t for t in store.transitions.list()}
        assert (by_id[1].status, by_id[1].event, by_id[1].incident_id) == ("handled", "down", 7)
        assert (by_id[2].status, by_id[2].event, by_id[2].incident_id) == ("handled", "up", 7)
        assert by_id[3].status == "superseded"  # never handled before the upgrade: history, not news
        down, up = sorted(store.deliveries.list(), key=lambda d: d.id)
        assert (down.incident_id, down.status, down.sent_at) == (7, "sent", t0.replace(tzinfo=UTC))
        assert (up.incident_id, up.status, up.sent_at, up.claimed_at) == (
            7,
            "sending",
            None,
            t0.replace(tzinfo=UTC),
        )
        assert store.deliveries.announced("p", 7)
        # the upgraded tables take new rows through the mapped entities
        play(store, "m3", [OK, FAIL])
        opened = store.incidents.open_for("m3")
        assert opened is not None
        acked = store.incidents.acknowledge(opened.id, "alice", NOW)
        assert acked is not None and acked.acked_by == "alice"
    finally:
        store.close()


def test_retention_prunes_closed_incidents_and_finished_transitions_only(store: Store) -> None:
    last = play(store, "old", [OK, FAIL, OK])[-1].transition_id  # an outage long over, its news handled
    while (c := store.transitions.next_for("old", last, "w", NOW, 30)).transition is not None:
        store.transitions.finish(c.transition.id, c.transition.token or "", TransitionStatus.HANDLED, NOW)
    play(store, "open", [FAIL])  # still open, its news not handled yet
    cut = NOW + timedelta(days=1)

    assert store.incidents.prune(cut) == 1 + 3  # the closed incident and its three handled transitions
    assert store.incidents.list("old") == []
    assert len(store.incidents.list("open", open_only=True)) == 1
    assert [t.status for t in store.transitions.list("open")] == ["pending"]  # unfinished: kept


def test_a_check_that_ends_after_its_monitor_was_deleted_records_nothing(store: Store) -> None:
    """Before: it came back as a new monitor going DOWN, and its DOWN went out after the deletion."""
    store.resources.sync([rec("web")])
    uid = "uid-Monitor-web"
    play(store, uid, [OK, FAIL])
    store.resources.sync([])  # deleted while a check of it is still running

    late = store.checks.record(uid, FAIL, lambda prev: next_state(prev, FAIL, RetryPolicy(), False, NOW), NOW)

    assert late is None
    assert store.checks.states([uid]) == {} and store.incidents.open_for(uid) is None
    store.resources.sync([rec("web")])  # added again: checked as a new monitor
    assert play(store, uid, [FAIL])[0] is not None and store.incidents.open_for(uid) is not None
