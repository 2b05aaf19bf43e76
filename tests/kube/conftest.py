"""The Kubernetes API double on loopback, a real client for it, and a controller on a real store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from app.controller.kube import KubeController, KubeSecretStore
from tests.kube.apiserver import ApiServer

GROUP, VERSION = "kubekuma.io", "v1alpha1"


@pytest.fixture
def apiserver() -> Iterator[ApiServer]:
    server = ApiServer(bookmark_interval=0.2).start()
    yield server
    server.stop()


@pytest.fixture
def kube(apiserver: ApiServer) -> Iterator[Any]:
    api = apiserver.client()
    yield api
    api.close()


@pytest.fixture
def custom(kube: Any) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(kube)


@pytest.fixture
def start_controller(kube: Any, sqlite_url: str) -> Iterator[Callable[..., KubeController]]:
    """Start a controller on a fresh SQLite store; stopped afterwards."""
    from app.store import Store

    started: list[tuple[KubeController, Store]] = []

    def start(store: Any = None, **kw: Any) -> KubeController:
        store = store or Store(sqlite_url)
        kw.setdefault("live_every", 0.2)
        kw.setdefault("recheck_every", 0.3)
        kw.setdefault("backoff_first", 0.05)
        secrets = KubeSecretStore(kube, ttl=0.1)
        ctl = KubeController(kube, store, secrets, **kw).start()
        started.append((ctl, store))
        assert ctl.wait_synced(10), "the controller never finished its first list"
        return ctl

    yield start
    for ctl, store in started:
        ctl.stop()
        store.close()


def wait_for(what: str, cond: Callable[[], Any], timeout: float = 10.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def monitor(
    name: str, url: str = "http://127.0.0.1:9/", interval: str = "30s", **spec: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "http", "interval": interval, "http": {"url": url}, **spec}
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Monitor", "metadata": {"name": name}, "spec": body}


def conditions(obj: dict[str, Any] | None) -> dict[str, tuple[str, str]]:
    """{type: (status, reason)} of an object's conditions."""
    conds = ((obj or {}).get("status") or {}).get("conditions") or []
    return {c["type"]: (c["status"], c["reason"]) for c in conds}
