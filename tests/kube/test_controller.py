"""The controller in Kubernetes mode: the real client against the API double, a real SQLite cache.

What a user sees: a Monitor created with kubectl gets a job in the scheduler, its status
conditions, and its live state; edits and deletes follow; a broken watch loses nothing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from app.alerting.state import RetryPolicy, next_state
from app.catalog import Catalog
from app.coord import LocalGuard
from app.model import CheckResult
from app.scheduler import MonitorScheduler
from tests.kube.conftest import GROUP, VERSION, conditions, monitor, wait_for

pytestmark = pytest.mark.timeout(60)


def record(store: Any, uid: str, result: CheckResult) -> None:
    """What a worker does after a check, so the controller has a state to show."""
    now = datetime.now(UTC)
    store.checks.record(uid, result, lambda prev: next_state(prev, result, RetryPolicy(), False, now), now)


def cached(ctl: Any, name: str, ns: str = "shop", kind: str = "Monitor") -> Any:
    return ctl.store.resources.get(kind, ns, name)


def test_monitors_created_changed_and_deleted_are_followed_by_the_scheduler(
    apiserver, custom, start_controller
):
    ctl = start_controller()
    catalog = Catalog(ctl.store, ttl=0.05)
    enqueued: list[str] = []
    sched = MonitorScheduler(
        catalog, lambda uid, *a: enqueued.append(uid), LocalGuard(), lambda t: t + 10, poll_interval=0.05
    )
    sched.start(leading=True)
    try:
        created = custom.create_namespaced_custom_object(GROUP, VERSION, "shop", "monitors", monitor("web"))
        uid = created["metadata"]["uid"]
        wait_for("a job for web", lambda: sched.job_count() == 1)
        assert sched.job(uid).interval == 30  # type: ignore[union-attr]

        custom.patch_namespaced_custom_object(
            GROUP, VERSION, "shop", "monitors", "web", {"spec": {"interval": "5s"}}
        )
        wait_for("the new interval", lambda: (job := sched.job(uid)) is not None and job.interval == 5)
        obj = wait_for(
            "status for generation 2",
            lambda: (
                (apiserver.api.get("monitors", "shop", "web").get("status") or {}).get("observedGeneration")
                == 2
                and apiserver.api.get("monitors", "shop", "web")
            ),
        )
        assert conditions(obj) == {
            "Valid": ("True", "SpecValid"),
            "Reconciled": ("True", "Cached"),
            "Ready": ("True", "Active"),
        }
        assert obj["status"]["target"] == "http://127.0.0.1:9/"
        # the spec as given, with the CRD's defaults the API server filled in
        assert obj["spec"]["interval"] == "5s" and obj["spec"]["http"]["url"] == "http://127.0.0.1:9/"
        assert obj["spec"]["timeout"] == "10s" and obj["spec"]["enabled"] is True

        custom.delete_namespaced_custom_object(GROUP, VERSION, "shop", "monitors", "web")
        wait_for("the job to go", lambda: sched.job_count() == 0)
        assert cached(ctl, "web") is None
    finally:
        sched.shutdown()
    # The controller never wrote a spec: its only writes were status patches.
    writes = [(m, p) for m, p in apiserver.api.requests if m in ("PUT", "POST", "PATCH", "DELETE")]
    by_controller = [(m, p) for m, p in writes if "/status" in p]
    assert by_controller and all(m == "PATCH" for m, _ in by_controller)
    assert len(writes) - len(by_controller) == 3  # the test's create, patch and delete


def test_a_broken_edit_is_reported_and_the_last_valid_spec_keeps_running(apiserver, custom, start_controller):
    ctl = start_controller()
    custom.create_namespaced_custom_object(GROUP, VERSION, "shop", "monitors", monitor("web", interval="10s"))
    wait_for("web cached", lambda: cached(ctl, "web"))

    custom.patch_namespaced_custom_object(
        GROUP, VERSION, "shop", "monitors", "web", {"spec": {"interval": "0s"}}
    )

    obj = wait_for(
        "Valid=False",
        lambda: (
            conditions(apiserver.api.get("monitors", "shop", "web")).get("Valid") == ("False", "InvalidSpec")
            and apiserver.api.get("monitors", "shop", "web")
        ),
    )
    valid = next(c for c in obj["status"]["conditions"] if c["type"] == "Valid")
    assert valid["message"] == "spec.interval: must be between 1s and 7d"
    assert valid["observedGeneration"] == 2
    assert conditions(obj)["Ready"] == ("True", "LastValidSpec")
    rec = cached(ctl, "web")
    assert rec.valid is False and rec.spec["interval"] == "10s"  # still checked every 10 s

    custom.patch_namespaced_custom_object(
        GROUP, VERSION, "shop", "monitors", "web", {"spec": {"interval": "20s"}}
    )
    wait_for(
        "valid again",
        lambda: (
            conditions(apiserver.api.get("monitors", "shop", "web")).get("Valid") == ("True", "SpecValid")
        ),
    )
    assert cached(ctl, "web").spec["interval"] == "20s"


def test_a_watch_cut_with_410_relists_and_loses_no_event(apiserver, custom, start_controller):
    api = apiserver.api
    ctl = start_controller()
    for name in ("keep", "change", "drop"):
        api.create("monitors", "shop", monitor(name))
    wait_for("three monitors cached", lambda: len(ctl.store.resources.list(kind="Monitor")) == 3)
    lists_before = sum(w.stats.lists for w in ctl.watchers)

    # The API server compacts its history and tells every watch it is gone; the next two
    # lists fail, and meanwhile objects change: these events exist only in the next list.
    api.fail("GET", "/monitors?", code=500, times=2)
    api.expire_watches()
    api.update("monitors", "shop", "change", {"spec": {"interval": "7s"}})
    api.delete("monitors", "shop", "drop")
    api.create("monitors", "shop", monitor("new"))

    wait_for(
        "the gap's changes in the cache",
        lambda: sorted(r.name for r in ctl.store.resources.list(kind="Monitor")) == ["change", "keep", "new"],
    )
    wait_for("the edit", lambda: cached(ctl, "change").spec["interval"] == "7s")
    monitors = next(w for w in ctl.watchers if w.info.kind == "Monitor")
    assert monitors.stats.gone >= 1 and monitors.stats.errors >= 2
    assert sum(w.stats.lists for w in ctl.watchers) > lists_before

    # Events after the relist arrive over the new watch.
    api.create("monitors", "shop", monitor("after"))
    wait_for("a later create", lambda: cached(ctl, "after"))


def test_a_cut_connection_resumes_from_the_last_position_without_listing_again(apiserver, start_controller):
    api = apiserver.api
    ctl = start_controller()
    lists = sum(w.stats.lists for w in ctl.watchers)
    wait_for("bookmarks", lambda: all(w.stats.bookmarks for w in ctl.watchers))

    api.cut_watches()
    api.create("monitors", "shop", monitor("while-cut"))

    wait_for("the create", lambda: cached(ctl, "while-cut"))
    assert sum(w.stats.lists for w in ctl.watchers) == lists  # resumed, not relisted


def test_a_monitor_set_becomes_monitors_inline(apiserver, custom, start_controller):
    ctl = start_controller()
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "MonitorSet",
        "metadata": {"name": "edge"},
        "spec": {
            "template": {"type": "http", "interval": "30s", "http": {"url": "http://127.0.0.1:9/"}},
            "items": [
                {"name": "eu", "labels": {"region": "eu"}},
                {"name": "us", "http": {"url": "http://127.0.0.1:10/"}},
            ],
        },
    }
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "shop", "monitorsets", body)

    wait_for(
        "two monitors",
        lambda: {r.name for r in ctl.store.resources.list(kind="Monitor")} == {"edge-eu", "edge-us"},
    )
    eu = cached(ctl, "edge-eu")
    assert eu.owner == created["metadata"]["uid"]
    assert eu.labels == {"region": "eu", "kubekuma.io/monitor-set": "edge"}
    assert cached(ctl, "edge-us").spec["http"]["url"] == "http://127.0.0.1:10/"
    assert conditions(
        wait_for(
            "set status",
            lambda: (
                apiserver.api.get("monitorsets", "shop", "edge").get("status")
                and apiserver.api.get("monitorsets", "shop", "edge")
            ),
        )
    )["Valid"] == ("True", "SpecValid")

    custom.patch_namespaced_custom_object(
        GROUP, VERSION, "shop", "monitorsets", "edge", {"spec": {"items": [{"name": "eu"}]}}
    )
    wait_for("us removed", lambda: {r.name for r in ctl.store.resources.list(kind="Monitor")} == {"edge-eu"})

    custom.delete_namespaced_custom_object(GROUP, VERSION, "shop", "monitorsets", "edge")
    wait_for("all gone", lambda: ctl.store.resources.list(kind="Monitor") == [])


def test_only_the_configured_namespaces_are_watched(apiserver, start_controller):
    ctl = start_controller(namespaces=["shop"])
    apiserver.api.create("monitors", "shop", monitor("mine"))
    apiserver.api.create("monitors", "other", monitor("theirs"))

    wait_for("mine", lambda: cached(ctl, "mine"))
    time.sleep(0.3)
    assert cached(ctl, "theirs", ns="other") is None
    assert apiserver.api.get("monitors", "other", "theirs").get("status") is None  # not touched


def test_status_is_written_only_when_it_changes(apiserver, start_controller):
    api = apiserver.api
    ctl = start_controller()
    api.create("monitors", "shop", monitor("web"))
    wait_for("status", lambda: (api.get("monitors", "shop", "web") or {}).get("status"))
    wait_for("quiet", ctl.idle)
    patches = api.count("PATCH", "/status")
    assert patches == 1

    # An annotation edit, bookmarks and the periodic rechecks change nothing a user sees.
    api.update("monitors", "shop", "web", {"metadata": {"annotations": {"note": "hello"}}})
    time.sleep(1.0)
    assert api.count("PATCH", "/status") == patches


def test_live_state_latency_and_uptime_are_written_at_a_bounded_rate(apiserver, start_controller):
    api = apiserver.api
    ctl = start_controller(status_interval=0.6)
    uid = api.create("monitors", "shop", monitor("web"))["metadata"]["uid"]
    wait_for("cached", lambda: cached(ctl, "web"))

    record(ctl.store, uid, CheckResult.up(41.6, "HTTP 200"))
    status = wait_for(
        "state UP",
        lambda: (
            (api.get("monitors", "shop", "web").get("status") or {}).get("state") == "UP"
            and api.get("monitors", "shop", "web")["status"]
        ),
    )
    assert status["latencyMs"] == 42 and status["reason"] == "HTTP 200"
    assert status["uptime"] == {"24h": "100.00", "30d": "100.00"}
    assert status["lastCheckTime"].endswith("Z") and status["lastTransitionTime"].endswith("Z")

    # Ten more checks within a moment: not ten writes.
    before = api.count("PATCH", "/status")
    for _ in range(10):
        record(ctl.store, uid, CheckResult.up(40.0, "HTTP 200"))
        time.sleep(0.05)
    time.sleep(0.3)
    assert api.count("PATCH", "/status") - before <= 2

    # A state change goes out at once, whatever the interval.
    record(ctl.store, uid, CheckResult.down(None, "HTTP 500"))
    status = wait_for(
        "state DOWN",
        lambda: (
            (api.get("monitors", "shop", "web").get("status") or {}).get("state") == "DOWN"
            and api.get("monitors", "shop", "web")["status"]
        ),
        timeout=3,
    )
    assert status["reason"] == "HTTP 500" and "latencyMs" not in status  # no latency: the field is cleared
    assert float(status["uptime"]["24h"]) < 100
    rec = cached(ctl, "web")
    assert rec.status["state"] == "DOWN"  # the cache (API, dashboard) shows it too
