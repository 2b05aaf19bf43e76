"""The store on SQLite and PostgreSQL: resource cache, check records, the outbox, incidents, migrations.

Every test that takes `store` runs once per database (see `db_url` in tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pony.orm import Database, db_session

from app.alerting.state import RetryPolicy, next_state
from app.model import CheckResult, FailureClass
from app.resources.registry import spec_hash
from app.store import ResourceRecord, Store, StoreError
from app.store.migrations import MIGRATIONS

LATEST = max(m[0] for m in MIGRATIONS)
NEXT = LATEST + 1

NOW = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)
OK = CheckResult.up(latency_ms=20.0)
FAIL = CheckResult.down(FailureClass.REFUSED, "connection refused")


# --- resource cache ----------------------------------------------------------------------------


def rec(
    name: str,
    spec: dict[str, Any] | None = None,
    *,
    valid: bool = True,
    kind: str = "Monitor",
    owner: str | None = None,
    generation: int = 1,
    labels: dict[str, str] | None = None,
) -> ResourceRecord:
    """A record as the folder controller builds it (an invalid one carries no spec)."""
    spec = {"type": "push"} if spec is None else spec
    labels = labels or {}
    return ResourceRecord(
        uid=f"uid-{kind}-{name}",
        kind=kind,
        namespace="default",
        name=name,
        spec=spec if valid else None,
        labels=labels,
        generation=generation,
        valid=valid,
        spec_hash=spec_hash(spec, labels) if valid else "invalid",
        source=f"{name}.yaml",
        owner=owner,
    )


TCP_1 = {"type": "tcp", "tcp": {"host": "db", "port": 1}}
TCP_2 = {"type": "tcp", "tcp": {"host": "db", "port": 2}}


def test_sync_inserts_new_objects(store: Store) -> None:
    result = store.resources.sync([rec("web"), rec("api", TCP_1, labels={"team": "db"})])

    assert sorted(result.changed) == ["uid-Monitor-api", "uid-Monitor-web"]
    assert result.deleted == []
    api = store.resources.get("Monitor", "default", "api")
    assert api is not None
    assert (api.spec, api.labels, api.generation, api.valid, api.source) == (
        TCP_1,
        {"team": "db"},
        1,
        True,
        "api.yaml",
    )
    assert store.resources.revision() == api.revision == 1
    assert [r.name for r in store.resources.list("Monitor")] == ["api", "web"]


def test_sync_of_unchanged_objects_is_a_no_op(store: Store) -> None:
    records = [rec("web"), rec("api", TCP_1)]
    store.resources.sync(records)
    revision = store.resources.revision()

    result = store.resources.sync(records)

    assert (result.changed, result.deleted) == ([], [])
    assert store.resources.revision() == revision
    assert {r.name: (r.revision, r.generation) for r in store.resources.list()} == {
        "api": (revision, 1),
        "web": (revision, 1),
    }


def test_a_spec_change_bumps_generation_and_revision(store: Store) -> None:
    store.resources.sync([rec("api", TCP_1), rec("web")])

    result = store.resources.sync([rec("api", TCP_2), rec("web")])

    assert result.changed == ["uid-Monitor-api"]
    api = store.resources.get("Monitor", "default", "api")
    web = store.resources.get("Monitor", "default", "web")
    assert api is not None and web is not None
    assert (api.spec, api.generation) == (TCP_2, 2)
    assert api.revision == store.resources.revision() == 2
    assert (web.generation, web.revision) == (1, 1)


def test_a_label_change_is_a_change(store: Store) -> None:
    store.resources.sync([rec("api", TCP_1, labels={"team": "db"})])

    assert store.resources.sync([rec("api", TCP_1, labels={"team": "cache"})]).changed == ["uid-Monitor-api"]

    api = store.resources.get("Monitor", "default", "api")
    assert api is not None
    assert (api.labels, api.generation) == ({"team": "cache"}, 2)


def test_a_generation_from_kubernetes_is_taken_when_higher(store: Store) -> None:
    store.resources.sync([rec("api", TCP_1, generation=5)])
    store.resources.sync([rec("api", TCP_2, generation=9)])

    api = store.resources.get("Monitor", "default", "api")
    assert api is not None
    assert api.generation == 9


def test_an_invalid_edit_keeps_the_last_valid_spec(store: Store) -> None:
    store.resources.sync([rec("api", TCP_1)])

    result = store.resources.sync([rec("api", valid=False)])

    assert result.changed == ["uid-Monitor-api"]
    api = store.resources.get("Monitor", "default", "api")
    assert api is not None
    assert (api.valid, api.spec, api.generation) == (False, TCP_1, 1)
    assert api.revision == store.resources.revision() == 2

    store.resources.sync([rec("api", TCP_2)])  # fixed
    api = store.resources.get("Monitor", "default", "api")
    assert api is not None
    assert (api.valid, api.spec, api.generation) == (True, TCP_2, 2)


def test_an_invalid_object_synced_again_is_a_no_op(store: Store) -> None:
    store.resources.sync([rec("api", TCP_1)])
    store.resources.sync([rec("api", valid=False)])
    revision = store.resources.revision()

    result = store.resources.sync([rec("api", valid=False)])

    assert (result.changed, result.deleted) == ([], [])
    assert store.resources.revision() == revision


def test_a_first_seen_invalid_object_is_cached_without_a_spec(store: Store) -> None:
    store.resources.sync([rec("broken", valid=False)])

    broken = store.resources.get("Monitor", "default", "broken")
    assert broken is not None
    assert (broken.valid, broken.spec) == (False, None)


def test_objects_no_longer_declared_are_deleted(store: Store) -> None:
    store.resources.sync(
        [rec("web"), rec("api"), rec("public", {"slug": "p", "title": "P"}, kind="StatusPage")]
    )

    result = store.resources.sync([rec("web")], scope_kinds={"Monitor"})

    assert result.deleted == ["uid-Monitor-api"]
    assert store.resources.get("Monitor", "default", "api") is None
    # outside the scope: left alone
    assert store.resources.get("StatusPage", "default", "public") is not None
    assert store.resources.revision() == 2


def test_children_of_an_invalid_monitor_set_keep_running(store: Store) -> None:
    edge = rec("edge", {"template": TCP_1, "items": [{"name": "a"}, {"name": "b"}]}, kind="MonitorSet")
    children = [rec("edge-a", TCP_1, owner=edge.uid), rec("edge-b", TCP_1, owner=edge.uid)]
    store.resources.sync([edge, *children])

    # the set's edit is broken: the loader cannot expand it, so no children are declared
    result = store.resources.sync([rec("edge", kind="MonitorSet", valid=False)])

    assert result.deleted == []
    assert sorted(r.name for r in store.resources.list("Monitor")) == ["edge-a", "edge-b"]

    # fixed, with one item fewer: the dropped child goes
    edge_fixed = rec("edge", {"template": TCP_1, "items": [{"name": "a"}]}, kind="MonitorSet")
    result = store.resources.sync([edge_fixed, children[0]])
    assert result.deleted == [children[1].uid]

    # the set removed: its children go with it
    assert sorted(store.resources.sync([]).deleted) == sorted([edge.uid, children[0].uid])
    assert store.resources.list() == []


def test_set_status_reports_whether_anything_changed(store: Store) -> None:
    store.resources.sync([rec("web")])
    status = {"observedGeneration": 1, "conditions": [{"type": "Valid", "status": "True"}]}

    assert store.resources.set_status("uid-Monitor-web", status) is True
    assert store.resources.set_status("uid-Monitor-web", dict(status)) is False
    assert store.resources.set_status("uid-Monitor-web", {**status, "observedGeneration": 2}) is True
    assert store.resources.set_status("uid-nobody", status) is False

    web = store.resources.get_uid("uid-Monitor-web")
    assert web is not None
    assert web.status["observedGeneration"] == 2


# --- check records --------------------------------------------------------------------------------


def check(
    store: Store, uid: str, result: CheckResult, at: datetime, retries: int = 0, maintenance: bool = False
) -> Any:
    return store.checks.record(
        uid, result, lambda prev: next_state(prev, result, RetryPolicy(retries), maintenance, at), at
    )


def test_record_writes_heartbeat_state_and_a_transition_only_on_change(store: Store) -> None:
    first = check(store, "m1", OK, NOW)
    second = check(store, "m1", OK, NOW + timedelta(seconds=30))
    third = check(store, "m1", FAIL, NOW + timedelta(seconds=60))

    assert first.transition_id is not None  # a new monitor enters UP
    assert second.transition_id is None
    assert third.transition_id is not None
    assert third.decision.snapshot.state == "DOWN"
    assert store.checks.count_heartbeats("m1") == 3
    assert [t.id for t in store.transitions.list("m1", status="pending")] == [
        third.transition_id,
        first.transition_id,
    ]

    state = store.checks.states(["m1"])["m1"]
    assert (state.state, state.checks, state.reason, state.failure) == (
        "DOWN",
        3,
        "connection refused",
        "refused",
    )
    assert state.since == NOW + timedelta(seconds=60)
    assert state.last_check_at == NOW + timedelta(seconds=60)


def test_the_recorded_state_feeds_the_next_decision(store: Store) -> None:
    states = [check(store, "m1", FAIL, NOW + timedelta(minutes=i), retries=2).decision for i in range(4)]

    assert [(d.snapshot.state, d.snapshot.failures, d.changed) for d in states] == [
        ("PENDING", 1, True),
        ("PENDING", 2, False),
        ("DOWN", 3, True),
        ("DOWN", 4, False),
    ]
    assert store.checks.states()["m1"].since == NOW + timedelta(minutes=2)


def test_heartbeats_page_newest_first(store: Store) -> None:
    for i in range(5):
        check(store, "m1", OK if i % 2 == 0 else FAIL, NOW + timedelta(minutes=i))
    check(store, "other", OK, NOW)

    page1 = store.checks.heartbeats("m1", limit=2)
    page2 = store.checks.heartbeats("m1", limit=2, before=page1[-1].id)
    page3 = store.checks.heartbeats("m1", limit=2, before=page2[-1].id)

    assert [h.time for h in page1] == ["2024-05-01T12:34:15Z", "2024-05-01T12:33:15Z"]
    assert [h.time for h in page2] == ["2024-05-01T12:32:15Z", "2024-05-01T12:31:15Z"]
    assert [h.time for h in page3] == ["2024-05-01T12:30:15Z"]
    assert store.checks.heartbeats("m1", before=page3[-1].id) == []
    newest = page1[0].to_json()
    assert {k: newest[k] for k in ("state", "ok", "latencyMs", "reason")} == {
        "state": "UP",
        "ok": True,
        "latencyMs": 20.0,
        "reason": "",
    }
    failed = page1[1]
    assert (failed.state, failed.ok, failed.reason, failed.failure) == (
        "DOWN",
        False,
        "connection refused",
        "refused",
    )


def test_uptime_comes_from_rollups(store: Store) -> None:
    minute = NOW.replace(second=0)
    for i, (result, latency) in enumerate([(OK, 10.0), (OK, 20.0), (OK, 30.0), (FAIL, None)]):
        shown = CheckResult(result.ok, latency, result.reason, result.failure)
        check(store, "m1", shown, minute + timedelta(seconds=i))
    check(store, "m1", OK, minute + timedelta(seconds=10), maintenance=True)  # not counted either way
    check(store, "m2", FAIL, minute)

    hour = minute.replace(minute=0)
    expected = {"ratio": 0.75, "avgLatencyMs": 20.0}
    assert store.checks.uptime("m1", since=hour) == expected
    assert store.checks.uptime("m1", since=minute, resolution="m") == expected
    assert store.checks.uptime("m1", since=hour.replace(hour=0), resolution="d") == expected
    assert store.checks.uptime("m1", since=hour + timedelta(hours=1)) == {"ratio": None, "avgLatencyMs": None}
    assert store.checks.uptime("m2", since=hour)["ratio"] == 0.0

    # raw heartbeats pruned: the long view stays
    assert store.checks.prune_heartbeats(NOW + timedelta(days=1)) == 6
    assert store.checks.uptime("m1", since=hour) == expected


def test_uptime_buckets_split_by_hour(store: Store) -> None:
    hour = NOW.replace(minute=0, second=0)
    check(store, "m1", OK, hour - timedelta(minutes=1))
    check(store, "m1", FAIL, hour + timedelta(minutes=1))

    assert store.checks.uptime("m1", since=hour)["ratio"] == 0.0
    assert store.checks.uptime("m1", since=hour - timedelta(hours=1))["ratio"] == 0.5


def test_prune_deletes_only_old_heartbeats(store: Store) -> None:
    for i in range(5):
        check(store, "m1", OK, NOW - timedelta(days=3, minutes=i))
    for i in range(3):
        check(store, "m1", OK, NOW + timedelta(minutes=i))
    check(store, "m2", OK, NOW - timedelta(days=3))

    deleted = store.checks.prune_heartbeats(NOW - timedelta(days=1), batch=2)

    assert deleted == 6
    assert store.checks.count_heartbeats("m1") == 3
    assert store.checks.count_heartbeats("m2") == 0
    assert [h.time for h in store.checks.heartbeats("m1")] == [
        "2024-05-01T12:32:15Z",
        "2024-05-01T12:31:15Z",
        "2024-05-01T12:30:15Z",
    ]
    assert store.checks.prune_heartbeats(NOW - timedelta(days=1)) == 0


# --- migrations ----------------------------------------------------------------------------------


def add_note_column(db: Database, dialect: str) -> None:
    column = (
        "note VARCHAR(200) DEFAULT 'migrated'" if dialect == "postgres" else "note TEXT DEFAULT 'migrated'"
    )
    db.execute(f"ALTER TABLE kk_heartbeats ADD COLUMN {column}")


def test_a_migration_upgrades_an_existing_database_without_losing_rows(db_url: str) -> None:
    old = Store(db_url)
    old.resources.sync([rec("web")])
    check(old, "m1", OK, NOW)
    assert old.schema_version() == LATEST
    old.close()

    calls: list[str] = []

    def migrate(db: Database, dialect: str) -> None:
        calls.append(dialect)
        add_note_column(db, dialect)

    new = Store(db_url, migrations=[*MIGRATIONS, (NEXT, "add a note to heartbeats", migrate)])
    try:
        assert calls == [new.dialect]
        assert new.schema_version() == NEXT
        assert [r.name for r in new.resources.list()] == ["web"]
        assert new.checks.count_heartbeats("m1") == 1
        with db_session:
            assert new.db.select("SELECT note FROM kk_heartbeats") == ["migrated"]
        check(new, "m1", OK, NOW + timedelta(minutes=1))  # the mapped entities still write
        assert new.checks.count_heartbeats("m1") == 2
    finally:
        new.close()

    again = Store(db_url, migrations=[*MIGRATIONS, (NEXT, "add a note to heartbeats", migrate)])
    again.close()
    assert calls == [new.dialect]  # not run twice

    newer = f"database schema {NEXT} is newer than this KubeKuma \\({LATEST}\\); upgrade it"
    with pytest.raises(StoreError, match=newer):
        Store(db_url)


def test_a_new_database_starts_at_the_latest_version(db_url: str) -> None:
    calls: list[str] = []
    nothing = (NEXT, "nothing to do on a new database", lambda db, d: calls.append(d))
    store = Store(db_url, migrations=[*MIGRATIONS, nothing])
    try:
        assert store.schema_version() == NEXT
        assert calls == []
    finally:
        store.close()


def test_a_failing_migration_leaves_the_database_as_it_was(db_url: str) -> None:
    old = Store(db_url)
    old.resources.sync([rec("web")])
    old.close()

    def broken(db: Database, dialect: str) -> None:
        add_note_column(db, dialect)
        raise RuntimeError("migration bug")

    with pytest.raises(RuntimeError, match="migration bug"):
        Store(db_url, migrations=[*MIGRATIONS, (NEXT, "broken", broken)])

    reopened = Store(db_url)
    try:
        assert reopened.schema_version() == LATEST
        assert [r.name for r in reopened.resources.list()] == ["web"]
    finally:
        reopened.close()
    # the half-done change was rolled back, so the fixed migration can run
    fixed = Store(db_url, migrations=[*MIGRATIONS, (NEXT, "fixed", add_note_column)])
    try:
        assert fixed.schema_version() == NEXT
    finally:
        fixed.close()
