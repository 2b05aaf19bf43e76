"""The API double is faithful where the controller and the Lease rely on it (checked with the real client)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.watch.watch import iter_resp_lines

from tests.kube.conftest import GROUP, VERSION, monitor

pytestmark = pytest.mark.timeout(30)


def events(custom: client.CustomObjectsApi, rv: str, seconds: int = 1, **kw: Any) -> list[dict[str, Any]]:
    resp = custom.list_cluster_custom_object(
        GROUP,
        VERSION,
        "monitors",
        watch=True,
        resource_version=rv,
        timeout_seconds=seconds,
        _preload_content=False,
        **kw,
    )
    return [json.loads(line) for line in iter_resp_lines(resp) if line]


def test_generation_moves_with_the_spec_only_and_status_is_a_separate_subresource(custom) -> None:
    made = custom.create_namespaced_custom_object(
        GROUP, VERSION, "shop", "monitors", {**monitor("web"), "status": {"state": "UP"}}
    )
    assert made["metadata"]["generation"] == 1 and "status" not in made  # status on create is dropped

    s = custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, "shop", "monitors", "web", {"status": {"state": "DOWN"}, "spec": {"interval": "1s"}}
    )
    assert (
        s["status"] == {"state": "DOWN"}
        and s["spec"]["interval"] == "30s"
        and s["metadata"]["generation"] == 1
    )

    m = custom.patch_namespaced_custom_object(
        GROUP, VERSION, "shop", "monitors", "web", {"spec": {"interval": "5s"}, "status": {"state": "UP"}}
    )
    assert m["metadata"]["generation"] == 2 and m["status"] == {"state": "DOWN"}

    labelled = custom.patch_namespaced_custom_object(
        GROUP, VERSION, "shop", "monitors", "web", {"metadata": {"labels": {"team": "a"}}}
    )
    assert labelled["metadata"]["generation"] == 2
    same = custom.patch_namespaced_custom_object(
        GROUP, VERSION, "shop", "monitors", "web", {"spec": {"interval": "5s"}}
    )
    assert (
        same["metadata"]["resourceVersion"] == labelled["metadata"]["resourceVersion"]
    )  # no change, no write


def test_stale_writes_conflict(custom) -> None:
    made = custom.create_namespaced_custom_object(GROUP, VERSION, "shop", "monitors", monitor("web"))
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, "shop", "monitors", "web", {"spec": {"interval": "5s"}}
    )
    for call in (
        lambda: custom.replace_namespaced_custom_object(GROUP, VERSION, "shop", "monitors", "web", made),
        lambda: custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            "shop",
            "monitors",
            "web",
            {"metadata": {"resourceVersion": made["metadata"]["resourceVersion"]}},
        ),
        lambda: custom.create_namespaced_custom_object(GROUP, VERSION, "shop", "monitors", monitor("web")),
    ):
        with pytest.raises(ApiException) as err:
            call()
        assert err.value.status == 409


def test_watch_resumes_sends_bookmarks_and_answers_410_after_compaction(apiserver, custom) -> None:
    api = apiserver.api
    start = api.create("monitors", "shop", monitor("a"))["metadata"]["resourceVersion"]
    api.create("monitors", "shop", monitor("b"))
    api.delete("monitors", "shop", "a")

    got = events(custom, start, allow_watch_bookmarks=True)
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in got if e["type"] != "BOOKMARK"] == [
        ("ADDED", "b"),
        ("DELETED", "a"),
    ]
    assert any(e["type"] == "BOOKMARK" for e in got)
    assert not any(e["type"] == "BOOKMARK" for e in events(custom, start))  # only when asked for

    api.compact()
    (gone,) = events(custom, start)
    assert gone["type"] == "ERROR" and gone["object"]["code"] == 410
    with pytest.raises(ApiException) as err:
        custom.list_cluster_custom_object(GROUP, VERSION, "monitors", resource_version=start)
    assert err.value.status == 410


def test_lists_page_over_a_consistent_snapshot(apiserver, custom) -> None:
    for i in range(5):
        apiserver.api.create("monitors", f"ns{i}", monitor("m"))
    first = custom.list_cluster_custom_object(GROUP, VERSION, "monitors", limit=2)
    apiserver.api.create("monitors", "ns9", monitor("late"))  # not in this list
    rest = custom.list_cluster_custom_object(
        GROUP, VERSION, "monitors", limit=10, _continue=first["metadata"]["continue"]
    )
    names = [i["metadata"]["namespace"] for i in first["items"] + rest["items"]]
    assert names == ["ns0", "ns1", "ns2", "ns3", "ns4"]
    assert rest["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_a_keep_alive_connection_survives_faults_errors_and_deletes_with_bodies(apiserver) -> None:
    import http.client
    from urllib.parse import urlsplit

    apiserver.api.create("monitors", "shop", monitor("web"))
    apiserver.api.fail("PATCH", "/monitors/web", code=500, times=1)
    url = urlsplit(apiserver.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    path = "/apis/kubekuma.io/v1alpha1/namespaces/shop/monitors"
    body = json.dumps({"spec": {"interval": "5s"}})
    merge = {"Content-Type": "application/merge-patch+json"}
    answers = []
    for method, p, b, h in [
        ("PATCH", f"{path}/web", body, merge),  # injected fault
        ("PATCH", f"{path}/web", body, {"Content-Type": "text/plain"}),  # 415
        ("POST", f"{path}/web", body, {}),  # 405
        ("GET", f"{path}/web", None, {}),
        ("DELETE", f"{path}/web", json.dumps({"propagationPolicy": "Foreground"}), {}),
        ("GET", f"{path}/web", None, {}),
    ]:
        conn.request(method, p, body=b, headers=h)
        resp = conn.getresponse()
        resp.read()
        answers.append(resp.status)
    conn.close()
    assert answers == [500, 415, 405, 200, 200, 404]  # no 400 from a leftover body


def test_json_patch_selectors_and_dry_run_with_the_real_client(custom) -> None:
    custom.create_namespaced_custom_object(
        GROUP,
        VERSION,
        "shop",
        "monitors",
        {**monitor("a"), "metadata": {"name": "a", "labels": {"tier": "1"}}},
    )
    custom.create_namespaced_custom_object(GROUP, VERSION, "shop", "monitors", monitor("b"))

    patched = custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        "shop",
        "monitors",
        "b",
        [{"op": "replace", "path": "/spec/interval", "value": "9s"}],
        _content_type="application/json-patch+json",
    )
    assert patched["spec"]["interval"] == "9s" and patched["metadata"]["generation"] == 2

    def names(**kw: Any) -> list[str]:
        items = custom.list_namespaced_custom_object(GROUP, VERSION, "shop", "monitors", **kw)["items"]
        return [i["metadata"]["name"] for i in items]

    assert names(label_selector="tier=1") == ["a"] and names(label_selector="!tier") == ["b"]
    assert names(label_selector="tier in (1,2)") == ["a"] and names(field_selector="metadata.name!=a") == [
        "b"
    ]

    dry = custom.create_namespaced_custom_object(
        GROUP, VERSION, "shop", "monitors", monitor("c"), dry_run="All"
    )
    assert dry["spec"]["timeout"] == "10s" and names() == ["a", "b"]  # defaulted, not stored
    with pytest.raises(ApiException) as err:
        custom.create_namespaced_custom_object(
            GROUP, VERSION, "shop", "monitors", {**monitor("d"), "spec": {"type": "nope"}}
        )
    assert err.value.status == 422 and "spec.type: Unsupported value" in json.loads(err.value.body)["message"]
