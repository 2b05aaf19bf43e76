"""The group checker: its rule as a table, and members read from a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.alerting.state import RetryPolicy, next_state
from app.checkers import run_check
from app.checkers.base import CheckContext
from app.checkers.group import verdict
from app.controller.folder import records_from
from app.model import CheckResult, FailureClass, MonitorSnapshot
from app.resources.groups import cycles, view
from app.resources.loader import SecretStore, load_folder
from app.resources.services import GroupSpec
from app.store import Store

RULES = [
    # (id, rule, states, ok, piece of the reason)
    ("all-up", {"rule": "allUp"}, {"a": "UP", "b": "UP"}, True, "2 of 2 members up"),
    ("all-up-one-down", {"rule": "allUp"}, {"a": "UP", "b": "DOWN"}, False, "down: b"),
    ("any-up", {"rule": "anyUp"}, {"a": "DOWN", "b": "UP"}, True, "1 of 2"),
    ("any-up-none", {"rule": "anyUp"}, {"a": "DOWN", "b": "DOWN"}, False, "0 of 2"),
    ("percent-met", {"rule": "percent", "minPercent": 66}, {"a": "UP", "b": "UP", "c": "DOWN"}, True, "67%"),
    (
        "percent-missed",
        {"rule": "percent", "minPercent": 75},
        {"a": "UP", "b": "UP", "c": "DOWN"},
        False,
        "75%",
    ),
    ("pending-left-out", {"rule": "allUp"}, {"a": "UP", "b": "PENDING", "c": "MAINTENANCE"}, True, "1 of 1"),
    ("nothing-decided", {"rule": "allUp"}, {"a": "PENDING"}, True, "no member has a decided state"),
]


@pytest.mark.parametrize(
    ("rule", "states", "ok", "reason"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
def test_rule(rule: dict, states: dict[str, str], ok: bool, reason: str) -> None:
    spec = GroupSpec.model_validate({"selector": {"matchLabels": {"x": "y"}}, **rule})
    got_ok, got_reason, _ = verdict(spec, states)
    assert got_ok is ok and reason in got_reason, got_reason


MANIFESTS = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: api, namespace: shop, labels: {tier: web}}
spec: {type: tcp, tcp: {host: api.internal, port: 80}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: www, namespace: shop, labels: {tier: web}}
spec: {type: tcp, tcp: {host: www.internal, port: 80}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: db, namespace: shop, labels: {tier: data}}
spec: {type: tcp, tcp: {host: db.internal, port: 5432}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: web, namespace: shop, labels: {layer: frontend}}
spec: {type: group, group: {selector: {matchLabels: {tier: web}}, rule: anyUp}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: shop, namespace: shop}
spec:
  type: group
  group: {selector: {matchExpressions: [{key: layer, operator: Exists}, {key: tier, operator: DoesNotExist}]}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: data, namespace: shop, labels: {layer: data}}
spec: {type: group, group: {selector: {matchLabels: {tier: data}}}}
"""


def seed(store: Store, tmp_path: Path, text: str) -> dict[str, str]:
    (tmp_path / "m.yaml").write_text(text)
    snap = load_folder(tmp_path, "default")
    assert not snap.problems, [p.lines() for p in snap.problems]
    records, _ = records_from(snap)
    store.resources.sync(records)
    return {r.name: r.uid for r in store.resources.list(kind="Monitor")}


def record(store: Store, uid: str, result: CheckResult) -> None:
    now = datetime.now(UTC)

    def decide(prev: MonitorSnapshot | None):  # type: ignore[no-untyped-def]
        return next_state(prev, result, RetryPolicy(), False, now)

    store.checks.record(uid, result, decide, now)


def check(store: Store, name: str, settings: dict) -> CheckResult:
    from app.resources.monitor import MonitorSpec

    spec = MonitorSpec.model_validate({"type": "group", "group": settings})
    ctx = CheckContext(uid="g", name=name, namespace="shop", secrets=SecretStore({}, environ={}), store=store)
    return run_check(spec, ctx)


def test_members_from_the_store_with_nesting(store: Store, tmp_path: Path) -> None:
    uids = seed(store, tmp_path, MANIFESTS)
    up, down = CheckResult.up(5.0), CheckResult.down(FailureClass.REFUSED, "refused")
    record(store, uids["api"], down)
    record(store, uids["www"], up)
    record(store, uids["db"], up)
    web = check(store, "web", {"selector": {"matchLabels": {"tier": "web"}}, "rule": "anyUp"})
    assert web.ok and web.details["up"] == 1 and web.details["down"] == 1, web.reason
    strict = check(store, "web", {"selector": {"matchLabels": {"tier": "web"}}})
    assert strict.failure is FailureClass.MISMATCH and "down: shop/api" in strict.reason
    # The nested groups have no state yet: the top group waits for them.
    top = {"selector": {"matchExpressions": [{"key": "layer", "operator": "Exists"},
                                             {"key": "tier", "operator": "DoesNotExist"}]}}  # fmt: skip
    assert "no member has a decided state" in check(store, "shop", top).reason
    record(store, uids["web"], up)
    record(store, uids["data"], down)
    nested = check(store, "shop", top)
    assert nested.failure is FailureClass.MISMATCH and "down: shop/data" in nested.reason
    nothing = check(store, "web", {"selector": {"matchLabels": {"tier": "none"}}})
    assert nothing.failure is FailureClass.CONFIG and "picks no monitor" in nothing.reason


CYCLE = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: a, namespace: shop, labels: {g: a}}
spec: {type: group, group: {selector: {matchLabels: {g: b}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: b, namespace: shop, labels: {g: b}}
spec: {type: group, group: {selector: {matchLabels: {g: a}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: ok, namespace: shop}
spec: {type: group, group: {selector: {matchLabels: {g: a}}}}
"""


def test_cycles_are_refused_at_validation(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(CYCLE)
    snap = load_folder(tmp_path, "default")
    lines = [line for p in snap.problems for line in p.lines()]
    assert len(lines) == 2 and all("shop/a -> shop/b -> shop/a" in line for line in lines), lines
    assert [r.name for r in snap.resources] == ["ok"], "the group following the cycle stays valid"


def test_cycles_are_refused_at_check_time(store: Store, tmp_path: Path) -> None:
    """Kubernetes validates objects one by one, so a cycle can reach the store; the checker refuses it."""
    records = []
    for i, doc in enumerate(CYCLE.split("---\n")[:2]):
        folder = tmp_path / str(i)
        folder.mkdir()
        (folder / "m.yaml").write_text(doc)
        records += records_from(load_folder(folder, "default"))[0]
    store.resources.sync(records)
    result = check(store, "a", {"selector": {"matchLabels": {"g": "b"}}})
    assert result.failure is FailureClass.CONFIG and "shop/a -> shop/b -> shop/a" in result.reason


def test_cycle_finder_reports_each_cycle_once() -> None:
    def group(name: str, follows: str) -> object:
        return view(
            "ns", name, {"g": name}, {"type": "group", "group": {"selector": {"matchLabels": {"g": follows}}}}
        )

    monitors = [group("a", "b"), group("b", "c"), group("c", "a"), group("d", "d"), group("e", "a")]
    found = sorted(sorted(loop) for loop in cycles(monitors))  # type: ignore[arg-type]
    assert found == [[("ns", "a"), ("ns", "b"), ("ns", "c")]], "d never selects itself; e only follows"
