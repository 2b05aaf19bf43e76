"""References and Secrets in Kubernetes mode: Valid=False naming what is missing, valid once it appears."""

from __future__ import annotations

from typing import Any

import pytest

from app.controller.kube import KubeSecretStore
from app.resources.common import SecretKeyRef
from app.resources.loader import SecretError
from tests.kube.conftest import GROUP, VERSION, conditions, monitor, wait_for

pytestmark = pytest.mark.timeout(60)


def valid(api: Any, plural: str, name: str) -> tuple[str, str, str] | None:
    obj = api.get(plural, "shop", name) or {}
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c["type"] == "Valid":
            return c["status"], c["reason"], c["message"]
    return None


def test_a_policy_naming_a_missing_provider_turns_valid_when_it_appears(apiserver, custom, start_controller):
    api = apiserver.api
    start_controller()
    policy = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "NotificationPolicy",
        "metadata": {"name": "oncall"},
        "spec": {"providers": [{"name": "slack"}], "triggers": ["down"]},
    }
    custom.create_namespaced_custom_object(GROUP, VERSION, "shop", "notificationpolicies", policy)
    wait_for(
        "Valid=False",
        lambda: (
            valid(api, "notificationpolicies", "oncall")
            == ("False", "ReferenceNotFound", "spec.providers[0]: NotificationProvider shop/slack not found")
        ),
    )
    assert conditions(api.get("notificationpolicies", "shop", "oncall"))["Ready"] == (
        "False",
        "ReferenceNotFound",
    )

    provider = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "NotificationProvider",
        "metadata": {"name": "slack"},
        "spec": {"type": "webhook", "webhook": {"url": "http://127.0.0.1:9/"}},
    }
    custom.create_namespaced_custom_object(GROUP, VERSION, "shop", "notificationproviders", provider)
    wait_for("valid", lambda: valid(api, "notificationpolicies", "oncall") == ("True", "SpecValid", ""))

    custom.delete_namespaced_custom_object(GROUP, VERSION, "shop", "notificationproviders", "slack")
    wait_for("invalid again", lambda: (valid(api, "notificationpolicies", "oncall") or ("",))[0] == "False")


def test_a_status_page_naming_a_monitor_of_a_set(apiserver, custom, start_controller):
    api = apiserver.api
    start_controller()
    page = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "StatusPage",
        "metadata": {"name": "shop"},
        "spec": {
            "slug": "shop",
            "title": "Shop",
            "groups": [{"name": "API", "monitors": [{"name": "edge-eu"}]}],
        },
    }
    custom.create_namespaced_custom_object(GROUP, VERSION, "shop", "statuspages", page)
    wait_for(
        "Valid=False",
        lambda: (
            valid(api, "statuspages", "shop")
            == ("False", "ReferenceNotFound", "spec.groups[0].monitors[0]: Monitor shop/edge-eu not found")
        ),
    )

    mset = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "MonitorSet",
        "metadata": {"name": "edge"},
        "spec": {
            "template": {"type": "tcp", "tcp": {"host": "127.0.0.1", "port": 9}},
            "items": [{"name": "eu"}],
        },
    }
    custom.create_namespaced_custom_object(GROUP, VERSION, "shop", "monitorsets", mset)
    wait_for("valid", lambda: valid(api, "statuspages", "shop") == ("True", "SpecValid", ""))


def test_a_monitor_whose_secret_is_missing_turns_valid_when_the_secret_is_created(
    apiserver, start_controller
):
    api = apiserver.api
    ctl = start_controller()
    header = {"name": "Authorization", "valueFrom": {"secretKeyRef": {"name": "token", "key": "header"}}}
    api.create("monitors", "shop", monitor("web", http={"url": "http://127.0.0.1:9/", "headers": [header]}))
    wait_for(
        "Valid=False",
        lambda: (
            valid(api, "monitors", "web")
            == (
                "False",
                "ReferenceNotFound",
                "spec.http.headers[0].valueFrom.secretKeyRef: Secret shop/token not found",
            )
        ),
    )
    assert ctl.store.resources.get("Monitor", "shop", "web").spec is not None  # still cached: checks say why

    api.put_secret("shop", "token", {"header": "Bearer do-not-leak"})
    wait_for("valid", lambda: valid(api, "monitors", "web") == ("True", "SpecValid", ""), timeout=5)
    everything = str(api.get("monitors", "shop", "web")) + str(ctl.store.resources.list())
    assert "do-not-leak" not in everything


def test_secret_store_reads_through_the_api_and_caches_briefly(apiserver, kube):
    api = apiserver.api
    api.put_secret("shop", "db", {"password": "hunter2"})
    clock = [0.0]
    store = KubeSecretStore(kube, ttl=30, environ={"FROM_ENV": "env-value"}, clock=lambda: clock[0])

    assert store.require(SecretKeyRef(name="db", key="password"), "shop") == "hunter2"
    assert store.get(SecretKeyRef(name="db", key="password"), "shop") == "hunter2"
    assert store.reads == 1  # the second came from the cache
    assert store.get(SecretKeyRef(name="db", key="user", optional=True), "shop") is None
    with pytest.raises(SecretError, match="not available in Kubernetes mode"):
        store.get(SecretKeyRef(env="FROM_ENV"), "shop")  # KubeKuma's own environment is not for manifests

    api.update("secrets", "shop", "db", {"data": {"password": "bmV3"}})  # "new"
    clock[0] = 31
    assert store.get(SecretKeyRef(name="db", key="password"), "shop") == "new"

    with pytest.raises(SecretError, match=r"^Secret shop/gone not found$"):
        store.get(SecretKeyRef(name="gone"), "shop")
    with pytest.raises(SecretError, match=r"^Secret shop/db has no key user$"):
        store.get(SecretKeyRef(name="db", key="user"), "shop")
    api.fail("GET", "/secrets/locked", code=403)
    with pytest.raises(SecretError) as err:
        store.get(SecretKeyRef(name="locked"), "shop")
    assert str(err.value) == "cannot read Secret shop/locked: the API answered HTTP 403"


def test_an_env_reference_is_refused_in_kubernetes_mode(apiserver, start_controller):
    """Whoever may create a Monitor must not read KubeKuma's own environment (the database URL)."""
    api = apiserver.api
    start_controller()
    header = {"name": "X-Stolen", "valueFrom": {"secretKeyRef": {"env": "KUBEKUMA_DATABASE_URL"}}}
    api.create("monitors", "shop", monitor("thief", http={"url": "http://127.0.0.1:9/", "headers": [header]}))
    got = wait_for(
        "Valid=False",
        lambda: (valid(api, "monitors", "thief") or ("",))[0] == "False" and valid(api, "monitors", "thief"),
    )
    assert "spec.http.headers[0].valueFrom.secretKeyRef.env" in got[2]
    assert "not available in Kubernetes mode" in got[2]
