"""RBAC grants exactly the calls KubeKuma makes (crds/rbac.yaml); the chart lints clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from app.checkers.kubernetes import PLURAL
from app.controller.kube import KubeLease, KubeSecretStore
from app.resources.common import SecretKeyRef
from app.resources.registry import KINDS
from tests.kube.apiserver import route
from tests.kube.conftest import monitor, wait_for

ROOT = Path(__file__).resolve().parents[2]
RBAC = list(yaml.safe_load_all((ROOT / "crds" / "rbac.yaml").read_text()))
CLUSTER_RULES = next(d for d in RBAC if d["kind"] == "ClusterRole")["rules"]
LEASE_RULES = next(d for d in RBAC if d["kind"] == "Role")["rules"]


def verb(method: str, path: str) -> tuple[str, str, str, str | None]:
    """(apiGroup, resource[/sub], verb, namespace) of one request, as the authorizer sees it."""
    url = urlsplit(path)
    kind, namespace, name, sub = route(url.path)
    if method == "GET":
        v = "get" if name else "watch" if parse_qs(url.query).get("watch") else "list"
    else:
        v = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
    return kind.group, kind.plural + (f"/{sub}" if sub else ""), v, namespace


def allowed(rules: list[dict[str, Any]], group: str, resource: str, v: str) -> bool:
    return any(group in r["apiGroups"] and resource in r["resources"] and v in r["verbs"] for r in rules)


def test_every_call_is_granted_and_every_grant_is_used(apiserver, kube, start_controller) -> None:
    api = apiserver.api
    start_controller()
    api.create(
        "monitors",
        "shop",
        monitor("web", http={"url": "http://127.0.0.1:9/", "bearerTokenSecretRef": {"name": "token"}}),
    )
    wait_for("status", lambda: (api.get("monitors", "shop", "web") or {}).get("status"))
    wait_for("the ReferenceNotFound event", lambda: api.list("events", "shop"))
    lease = KubeLease(kube, "kubekuma", "kubekuma-controller", "me", 1.0)
    lease.try_acquire_or_renew()
    lease.try_acquire_or_renew()
    lease.release()
    api.put_secret("shop", "token", {"value": "t"})
    KubeSecretStore(kube, ttl=0).get(SecretKeyRef(name="token"), "shop")
    test_writes = {("POST", "/api/v1/namespaces/shop/secrets")}

    used: set[tuple[str, str, str]] = set()
    for method, path in api.requests:
        if (method, path) in test_writes:
            continue
        group, resource, v, ns = verb(method, path)
        used.add((group, resource, v))
        if group == "coordination.k8s.io":
            assert ns == "kubekuma" and allowed(LEASE_RULES, group, resource, v), (method, path)
        else:
            assert allowed(CLUSTER_RULES, group, resource, v), f"{method} {path} is not granted"
    granted = {
        (g, res, v)
        for r in CLUSTER_RULES + LEASE_RULES
        for g in r["apiGroups"]
        for res in r["resources"]
        for v in r["verbs"]
        if g not in ("apps",) and res not in ("pods", "endpoints")
    }
    kinds = {i.plural for i in KINDS.values()}
    # get on the ten kinds is granted for `kubectl`-like reads by the role; everything else is exercised.
    unused = {g for g in granted - used if not (g[0] == "kubekuma.io" and g[1] in kinds and g[2] == "get")}
    # Every kind is listed and watched, and every kind's status may be patched (only one got patched here).
    unused = {g for g in unused if not (g[0] == "kubekuma.io" and g[1].endswith("/status"))}
    assert unused == set()


def test_rbac_covers_the_ten_kinds_and_the_kubernetes_checker() -> None:
    plurals = {i.plural for i in KINDS.values()}
    kk = [r for r in CLUSTER_RULES if r["apiGroups"] == ["kubekuma.io"]]
    assert {tuple(r["verbs"]): set(r["resources"]) for r in kk} == {
        ("get", "list", "watch"): plurals,
        ("patch",): {f"{p}/status" for p in plurals},  # status only: the spec is never written
    }
    for kind, plural in PLURAL.items():
        group = "apps" if kind in ("Deployment", "StatefulSet", "DaemonSet") else ""
        assert allowed(CLUSTER_RULES, group, plural, "get") and allowed(CLUSTER_RULES, group, plural, "list")
    assert not allowed(CLUSTER_RULES, "", "secrets", "list") and not allowed(
        CLUSTER_RULES, "", "secrets", "watch"
    )


@pytest.fixture(scope="module")
def helm() -> Any:
    try:
        import helm_python
    except (ImportError, OSError) as exc:  # the wheel ships a native library for linux x86_64 only
        pytest.skip(
            f"helm-python-sdk is not installed here ({exc}); `pip install helm-python-sdk` to lint the chart"
        )
    return helm_python


def test_the_chart_lints_clean(helm: Any) -> None:
    report = helm.lint(str(ROOT / "chart"), namespace="kubekuma", strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []
