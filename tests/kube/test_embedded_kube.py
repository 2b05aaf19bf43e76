"""`kubekuma run` in Kubernetes mode, end to end: a Monitor created through the API is checked,
and `kubectl get monitors` would show it UP, then DOWN; the dashboard API agrees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from app.config import load_settings
from app.roles import Embedded
from tests.access import READER, READER_MANIFESTS
from tests.kube.apiserver import ApiServer
from tests.kube.conftest import monitor, wait_for
from tests.targets import http_target

pytestmark = pytest.mark.timeout(60)

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{{name: double, cluster: {{server: "{url}"}}}}]
users: [{{name: kubekuma, user: {{token: not-a-real-token}}}}]
contexts: [{{name: double, context: {{cluster: double, user: kubekuma}}}}]
current-context: double
"""


@pytest.fixture
def system(apiserver: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Embedded]:
    config = tmp_path / "kubeconfig"
    config.write_text(KUBECONFIG.format(url=apiserver.url))
    monkeypatch.setenv("KUBEKUMA_KUBECONFIG", str(config))
    monkeypatch.setenv("KUBEKUMA_KUBERNETES", "true")
    monkeypatch.setenv("KUBEKUMA_LEASE_NAMESPACE", "kubekuma")
    monkeypatch.delenv("KUBEKUMA_MANIFESTS", raising=False)
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'kk.db'}", listen="127.0.0.1:0", worker_threads=2
    )
    sys_ = Embedded(settings).start()
    # The tests read the API with a key, committed to the cluster as `kubekuma apikey create` prints it.
    apikey, secret = yaml.safe_load_all(READER_MANIFESTS)
    apiserver.api.create("secrets", "default", secret)
    apiserver.api.create("apikeys", "default", apikey)
    try:
        yield sys_
    finally:
        sys_.stop()


def k8s_status(apiserver: ApiServer, name: str) -> dict[str, Any]:
    return (apiserver.api.get("monitors", "shop", name) or {}).get("status") or {}


def api_monitor(sys_: Embedded, name: str) -> dict[str, Any]:
    items = requests.get(sys_.url + "api/v1/monitors", timeout=5, headers=READER).json()["items"]
    return next((m for m in items if m["name"] == name), {})


def test_a_monitor_created_in_the_cluster_is_checked_and_its_state_shows_in_kubectl(system, apiserver):
    assert system.parts.kube is not None and system.kube_controller is not None
    with http_target() as target:
        apiserver.api.create("monitors", "shop", monitor("web", url=target.url + "/health", interval="1s"))

        status = wait_for(
            "state UP on the object",
            lambda: k8s_status(apiserver, "web").get("state") == "UP" and k8s_status(apiserver, "web"),
            timeout=20,
        )
        assert status["target"] == target.url + "/health"
        assert status["uptime"]["24h"] == "100.00" and isinstance(status["latencyMs"], int)
        assert {c["type"]: c["status"] for c in status["conditions"]} == {
            "Valid": "True",
            "Reconciled": "True",
            "Ready": "True",
        }
        assert api_monitor(system, "web")["state"] == "UP"
        lease = apiserver.api.get("leases", "kubekuma", "kubekuma-scheduler")
        assert lease is not None and lease["spec"]["holderIdentity"] == system.parts.identity

        target.status = 500
        status = wait_for(
            "state DOWN on the object",
            lambda: k8s_status(apiserver, "web").get("state") == "DOWN" and k8s_status(apiserver, "web"),
            timeout=15,
        )
        assert "500" in status["reason"]

        apiserver.api.delete("monitors", "shop", "web")
        wait_for("gone from the API", lambda: not api_monitor(system, "web"))
