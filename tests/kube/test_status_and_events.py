"""The controller's writes as operators expect them: others' conditions kept, conflicts retried,
persistent errors backed off, and Events for what needs a human."""

from __future__ import annotations

import logging
import time

import pytest

from app.controller.kube.writer import StatusWriter
from tests.kube.conftest import conditions, monitor, wait_for

pytestmark = pytest.mark.timeout(60)


def status_of(api, name: str, ns: str = "shop") -> dict:
    return (api.get("monitors", ns, name) or {}).get("status") or {}


def test_another_writers_condition_survives_our_status_writes(apiserver, start_controller) -> None:
    api = apiserver.api
    ctl = start_controller()
    api.create("monitors", "shop", monitor("web"))
    wait_for("our conditions", lambda: "Valid" in conditions(api.get("monitors", "shop", "web")))
    theirs = {
        "type": "Audited",
        "status": "True",
        "reason": "PolicyChecked",
        "message": "",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    current = status_of(api, "web")["conditions"]
    api.update("monitors", "shop", "web", {"status": {"conditions": [*current, theirs]}}, "status")

    api.update("monitors", "shop", "web", {"spec": {"interval": "0s"}})  # invalid: our conditions change
    wait_for(
        "Valid=False",
        lambda: conditions(api.get("monitors", "shop", "web")).get("Valid") == ("False", "InvalidSpec"),
    )
    assert conditions(api.get("monitors", "shop", "web"))["Audited"] == ("True", "PolicyChecked")
    assert ctl.writer.stats.errors == 0


def test_a_conflicting_write_is_read_again_and_retried(apiserver, start_controller) -> None:
    api = apiserver.api
    ctl = start_controller()
    api.create("monitors", "shop", monitor("web"))
    wait_for("status", lambda: status_of(api, "web").get("conditions"))
    wait_for("quiet", ctl.idle)
    # Someone writes the status behind the watch's back: the controller's next patch is based on a
    # resourceVersion that is no longer current, so the API server refuses it with 409.
    api.fail("PATCH", "/monitors/web/status", code=409, times=1)
    api.update("monitors", "shop", "web", {"spec": {"interval": "0s"}})
    wait_for(
        "Valid=False after the conflict",
        lambda: conditions(api.get("monitors", "shop", "web")).get("Valid") == ("False", "InvalidSpec"),
    )
    assert ctl.writer.stats.conflicts == 1 and ctl.writer.stats.errors == 0


def test_the_status_carries_its_resource_version_so_a_stale_write_is_refused(apiserver, kube) -> None:
    from app.controller.kube.writer import Target, patch_body
    from app.resources.registry import KINDS

    api = apiserver.api
    obj = api.create("monitors", "shop", monitor("web"))
    stale = obj["metadata"]["resourceVersion"]
    api.update("monitors", "shop", "web", {"status": {"state": "UP"}}, "status")
    target = (Target(KINDS["Monitor"], "shop", "web"), {}, stale)
    writer = StatusWriter(kube, lambda uid: target)
    writer.want("u", {"reason": "mine"})
    from kubernetes.client.rest import ApiException

    with pytest.raises(ApiException) as err:
        writer._patch(target[0], patch_body({}, {"reason": "mine"}, stale))
    assert err.value.status == 409
    assert writer.write("u") is True  # the writer reads the object again and succeeds
    assert status_of(api, "web") == {"state": "UP", "reason": "mine"}


def test_persistent_write_errors_back_off_to_a_cap_with_short_log_lines(apiserver, start_controller, caplog):
    api = apiserver.api
    ctl = start_controller()
    ctl.writer.backoff_first, ctl.writer.backoff_cap = 0.05, 0.2
    assert [ctl.writer.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.05, 0.1, 0.2, 0.2, 0.2]
    api.fail("PATCH", "/monitors/web/status", code=500, times=1000)
    with caplog.at_level(logging.WARNING, logger="app.controller.kube.writer"):
        api.create("monitors", "shop", monitor("web"))
        time.sleep(1.5)
    tries = api.count("PATCH", "/monitors/web/status")
    assert 4 <= tries <= 12  # backed off: not one try per loop turn, nor per second for ever
    lines = [r.getMessage() for r in caplog.records if "not written" in r.getMessage()]
    assert lines and all(len(line) < 160 and "\n" not in line for line in lines)
    assert "Monitor shop/web" in lines[0] and "HTTP 500" in lines[0]

    api.faults.clear()  # the API server recovers: the status goes out
    wait_for("status after recovery", lambda: status_of(api, "web").get("conditions"), timeout=5)


def test_reconciled_tells_the_outcome_and_when(apiserver, start_controller) -> None:
    api = apiserver.api
    start_controller()
    api.create("monitors", "shop", monitor("web"))
    st = wait_for("status", lambda: status_of(api, "web").get("conditions") and status_of(api, "web"))
    rec = next(c for c in st["conditions"] if c["type"] == "Reconciled")
    assert (rec["status"], rec["reason"], rec["message"]) == ("True", "Cached", "generation 1 cached")
    assert st["lastReconcileTime"].endswith("Z")

    api.update("monitors", "shop", "web", {"spec": {"interval": "0s"}})
    st = wait_for(
        "generation 2", lambda: status_of(api, "web").get("observedGeneration") == 2 and status_of(api, "web")
    )
    rec = next(c for c in st["conditions"] if c["type"] == "Reconciled")
    assert rec["message"] == "generation 2 rejected; the last valid spec runs"


def test_events_for_an_invalid_spec_a_missing_reference_and_the_recovery(apiserver, start_controller):
    api = apiserver.api
    ctl = start_controller()
    api.create("monitors", "shop", monitor("web", interval="0s"))
    policy = {
        "apiVersion": "kubekuma.io/v1alpha1",
        "kind": "NotificationPolicy",
        "metadata": {"name": "oncall"},
        "spec": {"providers": [{"name": "nowhere"}]},
    }
    api.create("notificationpolicies", "shop", policy)

    def reasons() -> set[tuple[str, str, str]]:
        return {(e["involvedObject"]["name"], e["type"], e["reason"]) for e in api.list("events", "shop")}

    wait_for(
        "two warnings",
        lambda: {("web", "Warning", "InvalidSpec"), ("oncall", "Warning", "ReferenceNotFound")} <= reasons(),
    )
    (invalid,) = [e for e in api.list("events", "shop") if e["reason"] == "InvalidSpec"]
    assert invalid["message"] == "spec.interval: must be between 1s and 7d"
    assert invalid["involvedObject"]["kind"] == "Monitor" and invalid["source"]["component"]

    ctl.recheck_secrets()  # a reconcile that changes nothing records nothing again
    api.update("monitors", "shop", "web", {"metadata": {"labels": {"a": "b"}}})
    time.sleep(0.5)
    assert len([e for e in api.list("events", "shop") if e["reason"] == "InvalidSpec"]) == 1

    api.update("monitors", "shop", "web", {"spec": {"interval": "30s"}})
    wait_for("a Normal Valid event", lambda: ("web", "Normal", "Valid") in reasons())
