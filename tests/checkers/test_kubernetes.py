"""The kubernetes checker: the real client (v36) talking HTTP to an API double on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest

from app.model import FailureClass

pytestmark = pytest.mark.timeout(30)


def _pod(ready: bool, waiting: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    if waiting:
        status["containerStatuses"] = [
            {"name": "app", "ready": False, "state": {"waiting": {"reason": waiting}}}
        ]
    return {"spec": {"containers": [{"name": "app", "image": "x"}]}, "status": status}


@pytest.fixture
def cluster(kube_api):
    api, kube = kube_api
    shop = {"app": "shop"}
    api.add(
        "deployments",
        "default",
        "web",
        shop,
        spec={"replicas": 3},
        status={"readyReplicas": 3, "replicas": 3},
    )
    api.add(
        "deployments",
        "default",
        "half",
        shop,
        spec={"replicas": 3},
        status={"readyReplicas": 1, "replicas": 3},
    )
    api.add("deployments", "default", "idle", spec={"replicas": 0}, status={})
    api.add("deployments", "other", "web", spec={"replicas": 1}, status={"readyReplicas": 1})
    api.add("statefulsets", "default", "db", spec={"replicas": 2}, status={"readyReplicas": 2})
    api.add("daemonsets", "default", "agent", status={"desiredNumberScheduled": 3, "numberReady": 2})
    api.add("pods", "default", "api-1", {"app": "api"}, **_pod(True))
    api.add("pods", "default", "api-2", {"app": "api"}, **_pod(False, "CrashLoopBackOff"))
    api.add("pods", "default", "api-3", {"app": "api"}, **_pod(True))
    subsets = [
        {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "notReadyAddresses": [{"ip": "10.0.0.3"}]}
    ]
    api.add("endpoints", "default", "svc", {"app": "api"}, subsets=subsets)
    api.add("endpoints", "default", "nobody", subsets=[])
    api.forbidden.add("locked")
    return api, kube


CASES = [
    # (id, settings, ok, failure, piece of the reason)
    ("deployment-ready", {"kind": "Deployment", "name": "web"}, True, None, "ready: web 3/3"),
    ("deployment-all-needed", {"kind": "Deployment", "name": "web", "minReady": 3}, True, None, ""),
    (
        "deployment-short",
        {"kind": "Deployment", "name": "half", "minReady": 2},
        False,
        FailureClass.NOT_READY,
        "half 1/3 ready (needs 2)",
    ),
    (
        "deployment-missing",
        {"kind": "Deployment", "name": "gone"},
        False,
        FailureClass.NOT_READY,
        "no Deployment default/gone",
    ),
    (
        "deployment-scaled-to-zero",
        {"kind": "Deployment", "name": "idle"},
        False,
        FailureClass.NOT_READY,
        "idle 0/0 ready",
    ),
    ("deployment-zero-needed", {"kind": "Deployment", "name": "idle", "minReady": 0}, True, None, ""),
    (
        "deployment-other-namespace",
        {"kind": "Deployment", "name": "web", "namespace": "other"},
        True,
        None,
        "web 1/1",
    ),
    (
        "deployments-by-selector-each-must-pass",
        {"kind": "Deployment", "selector": {"app": "shop"}, "minReady": 2},
        False,
        FailureClass.NOT_READY,
        "half 1/3 ready (needs 2)",
    ),
    (
        "deployments-by-selector",
        {"kind": "Deployment", "selector": {"app": "shop"}},
        True,
        None,
        "half 1/3, web 3/3",
    ),
    (
        "selector-matches-nothing",
        {"kind": "Deployment", "selector": {"app": "none"}},
        False,
        FailureClass.NOT_READY,
        "no deployments in default with app=none",
    ),
    ("statefulset", {"kind": "StatefulSet", "name": "db", "minReady": 2}, True, None, "db 2/2"),
    (
        "daemonset-short",
        {"kind": "DaemonSet", "name": "agent", "minReady": 3},
        False,
        FailureClass.NOT_READY,
        "agent 2/3",
    ),
    ("pod-ready", {"kind": "Pod", "name": "api-1"}, True, None, "1/1 pods ready"),
    (
        "pod-crashlooping",
        {"kind": "Pod", "name": "api-2"},
        False,
        FailureClass.NOT_READY,
        "0/1 pods ready (needs 1) — api-2: container app: CrashLoopBackOff",
    ),
    (
        "pods-by-selector",
        {"kind": "Pod", "selector": {"app": "api"}, "minReady": 2},
        True,
        None,
        "2/3 pods ready",
    ),
    (
        "pods-by-selector-short",
        {"kind": "Pod", "selector": {"app": "api"}, "minReady": 3},
        False,
        FailureClass.NOT_READY,
        "2/3 pods ready (needs 3) — api-2: container app: CrashLoopBackOff",
    ),
    ("endpoints", {"kind": "Endpoints", "name": "svc", "minReady": 2}, True, None, "2 ready addresses"),
    (
        "endpoints-short",
        {"kind": "Endpoints", "name": "svc", "minReady": 3},
        False,
        FailureClass.NOT_READY,
        "Endpoints default/svc has 2 ready addresses, 1 not ready (needs 3)",
    ),
    (
        "endpoints-empty",
        {"kind": "Endpoints", "name": "nobody"},
        False,
        FailureClass.NOT_READY,
        "0 ready addresses",
    ),
    ("endpoints-by-selector", {"kind": "Endpoints", "selector": {"app": "api"}}, True, None, ""),
    (
        "rbac-forbidden",
        {"kind": "Deployment", "name": "web", "namespace": "locked"},
        False,
        FailureClass.PERMISSION,
        "refused to get deployments in locked (HTTP 403): grant KubeKuma's service account get on",
    ),
    (
        "rbac-forbidden-list",
        {"kind": "Pod", "selector": {"a": "b"}, "namespace": "locked"},
        False,
        FailureClass.PERMISSION,
        "list on pods",
    ),
]


@pytest.mark.parametrize(
    ("settings", "ok", "failure", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_kubernetes_outcomes(run, make_ctx, cluster, settings, ok, failure, reason) -> None:
    _, kube = cluster
    result = run("kubernetes", settings, ctx=make_ctx(kube=kube))
    assert (result.ok, result.failure) == (ok, failure), result.reason
    assert reason in result.reason
    assert result.latency_ms is not None


def test_selector_is_sent_to_the_api(run, make_ctx, cluster) -> None:
    api, kube = cluster
    run("kubernetes", {"kind": "Pod", "selector": {"tier": "web", "app": "api"}}, ctx=make_ctx(kube=kube))
    assert api.requests[-1] == "/api/v1/namespaces/default/pods?labelSelector=app=api,tier=web"


def test_details_list_each_workload(run, make_ctx, cluster) -> None:
    _, kube = cluster
    result = run("kubernetes", {"kind": "Deployment", "selector": {"app": "shop"}}, ctx=make_ctx(kube=kube))
    assert result.details["objects"] == {
        "half": {"ready": 1, "desired": 3},
        "web": {"ready": 3, "desired": 3},
    }


def test_without_a_kubernetes_api(run) -> None:
    result = run("kubernetes", {"kind": "Deployment", "name": "web"})
    assert (result.ok, result.failure, result.reason) == (
        False,
        FailureClass.CONFIG,
        "no Kubernetes API configured",
    )


def test_api_unreachable(run, make_ctx, closed_port) -> None:
    from kubernetes import client

    config = client.Configuration(host=f"http://127.0.0.1:{closed_port}")
    config.retries = 0
    with client.ApiClient(config) as kube:
        result = run("kubernetes", {"kind": "Deployment", "name": "web"}, ctx=make_ctx(kube=kube))
    assert (result.ok, result.failure) == (False, FailureClass.REFUSED)
    assert "Kubernetes API" in result.reason
