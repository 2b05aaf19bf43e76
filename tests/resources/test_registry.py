"""parse_resource and expand_monitor_set: from one manifest document to typed, identified resources."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.resources.monitor import MonitorSpec
from app.resources.registry import (
    KINDS,
    Problem,
    Resource,
    ResourceError,
    expand_monitor_set,
    folder_uid,
    parse_resource,
    spec_hash,
)

API = "kubekuma.io/v1alpha1"
PUSH = {"type": "push"}


def doc(kind: str = "Monitor", spec: Any = None, api: Any = API, **metadata: Any) -> dict[str, Any]:
    metadata.setdefault("name", "web")
    return {"apiVersion": api, "kind": kind, "metadata": metadata, "spec": PUSH if spec is None else spec}


def rejected(document: Any, **kwargs: Any) -> ResourceError:
    with pytest.raises(ResourceError) as caught:
        parse_resource(document, **kwargs)
    return caught.value


def test_a_valid_monitor_becomes_a_typed_resource() -> None:
    spec = {"type": "tcp", "interval": "30s", "tcp": {"host": "db", "port": 5432}}
    res = parse_resource(doc(spec=spec, labels={"team": "db"}), source="monitors.yaml#2")

    assert (res.kind, res.namespace, res.name) == ("Monitor", "default", "web")
    assert res.labels == {"team": "db"}
    assert isinstance(res.spec, MonitorSpec)
    assert res.spec.interval == 30
    assert res.raw_spec == spec  # as written, for the cache and spec_hash
    assert res.generation == 1
    assert res.source == "monitors.yaml#2"
    assert res.owner is None
    assert res.uid == folder_uid("Monitor", "default", "web")


def test_uid_and_generation_from_the_api_server_are_kept() -> None:
    uid = str(uuid.uuid4())

    res = parse_resource(doc(uid=uid, generation=7, namespace="prod"))

    assert (res.uid, res.generation, res.namespace) == (uid, 7, "prod")


@pytest.mark.parametrize(
    ("namespace", "default", "expected"),
    [
        pytest.param(None, "default", "default", id="default-default"),
        pytest.param(None, "monitoring", "monitoring", id="caller-default"),
        pytest.param("prod", "monitoring", "prod", id="manifest-wins"),
    ],
)
def test_namespaced_kinds_get_a_namespace(namespace: str | None, default: str, expected: str) -> None:
    meta = {"namespace": namespace} if namespace else {}

    res = parse_resource(doc(**meta), default_namespace=default)

    assert res.namespace == expected
    assert res.uid == folder_uid("Monitor", expected, "web")


@pytest.mark.parametrize("namespace", [None, "prod"], ids=["none-given", "one-given"])
def test_cluster_scoped_settings_have_no_namespace(namespace: str | None) -> None:
    meta = {"namespace": namespace} if namespace else {}

    res = parse_resource(doc("KubeKumaSettings", {}, name="kubekuma", **meta), default_namespace="monitoring")

    assert res.meta.namespace is None
    assert res.namespace == ""
    assert res.uid == folder_uid("KubeKumaSettings", "", "kubekuma")


def test_unknown_kind_names_the_known_ones() -> None:
    exc = rejected(doc("Monitr"))

    assert exc.kind == "Monitr"
    assert exc.name == "web"
    assert len(exc.problems) == 1
    assert exc.problems[0].field == "kind"
    assert exc.problems[0].reason.startswith("unknown kind 'Monitr'; expected one of ")
    for kind in KINDS:
        assert kind in exc.problems[0].reason


@pytest.mark.parametrize(
    ("api", "expected"),
    [
        pytest.param(
            "kubekuma.io/v1", "apiVersion: must be kubekuma.io/v1alpha1 (got 'kubekuma.io/v1')", id="v1"
        ),
        pytest.param("v1alpha1", "apiVersion: must be kubekuma.io/v1alpha1 (got 'v1alpha1')", id="no-group"),
        pytest.param(None, "apiVersion: must be kubekuma.io/v1alpha1 (got None)", id="missing"),
    ],
)
def test_wrong_api_version(api: Any, expected: str) -> None:
    exc = rejected(doc(api=api))

    assert [str(p) for p in exc.problems] == [expected]
    assert (exc.kind, exc.name, exc.namespace) == ("Monitor", "web", "default")


def test_every_problem_is_reported_at_once() -> None:
    spec = {"type": "http", "http": {"url": "ftp://x"}, "timeout": "1h"}

    exc = rejected(doc(api="v1", spec=spec))

    assert [str(p) for p in exc.problems] == [
        "apiVersion: must be kubekuma.io/v1alpha1 (got 'v1')",
        "spec.timeout: must be above 0 and at most 5m",
        "spec.http.url: must be an absolute http or https URL with a host",
    ]
    assert str(exc) == "; ".join(str(p) for p in exc.problems)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"type": "http", "http": {"url": "mailto:ops@example.com"}},
            "spec.http.url: must be an absolute http or https URL with a host",
            id="nested-field",
        ),
        pytest.param(
            {"type": "http", "http": {}},
            "spec.http.url: Field required",
            id="missing-nested-field",
        ),
        pytest.param(
            {
                "type": "http",
                "http": {"url": "http://x.test", "headers": [{"name": "A", "value": "1"}, {"name": "B"}]},
            },
            "spec.http.headers[1]: give exactly one of value or valueFrom",
            id="list-index",
        ),
        pytest.param(
            {"type": "http", "http": {"url": "http://x.test", "body": {"json": {}, "text": "x"}}},
            "spec.http.body: give exactly one of json, text, form (and/or formFrom) or valueFrom",
            id="model-rule",
        ),
        pytest.param(
            {"type": "tcp", "tcp": {"host": "db", "port": 70000}},
            "spec.tcp.port: Input should be less than or equal to 65535",
            id="number-range",
        ),
        pytest.param(
            {"type": "push", "intervall": "30s"},
            "spec.intervall: Extra inputs are not permitted",
            id="typo-is-an-error",
        ),
        pytest.param(
            {
                "type": "http",
                "http": {"url": "http://x.test", "basicAuth": {"username": "u", "passwordSecretRef": {}}},
            },
            "spec.http.basicAuth.passwordSecretRef: "
            "a secret reference needs name (a Secret) or env (a variable)",
            id="deep-secret-ref",
        ),
        pytest.param({}, "spec.type: Field required", id="empty-spec"),
        pytest.param("push", "spec: must be a mapping", id="spec-not-a-mapping"),
    ],
)
def test_problems_name_the_field_and_the_reason(spec: Any, expected: str) -> None:
    exc = rejected(doc(spec=spec))

    assert [str(p) for p in exc.problems] == [expected]


def test_missing_spec_is_read_as_empty() -> None:
    document = doc()
    del document["spec"]

    exc = rejected(document)

    assert [str(p) for p in exc.problems] == ["spec.type: Field required"]


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        pytest.param({}, "metadata.name: Field required", id="no-name"),
        pytest.param({"name": "Web_1"}, "metadata.name: String should match pattern", id="not-dns"),
        pytest.param(
            {"name": "web", "namespace": "Prod"}, "metadata.namespace: String should match", id="bad-ns"
        ),
    ],
)
def test_metadata_problems(metadata: dict[str, Any], expected: str) -> None:
    exc = rejected({"apiVersion": API, "kind": "Monitor", "metadata": metadata, "spec": PUSH})

    assert len(exc.problems) == 1
    assert str(exc.problems[0]).startswith(expected)


@pytest.mark.parametrize("document", [["a", "list"], "text", None, 42], ids=["list", "str", "none", "int"])
def test_a_document_must_be_a_mapping(document: Any) -> None:
    exc = rejected(document)

    assert [str(p) for p in exc.problems] == ["a manifest must be a mapping"]


def test_problem_without_field_is_just_the_reason() -> None:
    assert str(Problem("", "a manifest must be a mapping")) == "a manifest must be a mapping"
    assert str(Problem("spec.type", "Field required")) == "spec.type: Field required"


def test_folder_uid_is_stable_and_distinct() -> None:
    uid = folder_uid("Monitor", "default", "web")

    assert uid == folder_uid("Monitor", "default", "web")
    assert uuid.UUID(uid).version == 5
    others = {
        folder_uid("Monitor", "prod", "web"),
        folder_uid("Monitor", "default", "api"),
        folder_uid("StatusPage", "default", "web"),
    }
    assert uid not in others
    assert len(others) == 3


def test_spec_hash_follows_spec_and_labels_not_key_order() -> None:
    base = spec_hash({"type": "tcp", "tcp": {"host": "db", "port": 1}}, {"team": "db"})

    assert base == spec_hash({"tcp": {"port": 1, "host": "db"}, "type": "tcp"}, {"team": "db"})
    assert base != spec_hash({"type": "tcp", "tcp": {"host": "db", "port": 2}}, {"team": "db"})
    assert base != spec_hash({"type": "tcp", "tcp": {"host": "db", "port": 1}}, {"team": "cache"})


# --- MonitorSet expansion ---------------------------------------------------------------------


def monitor_set(
    items: list[dict[str, Any]], template: dict[str, Any] | None = None, **metadata: Any
) -> Resource:
    template = template or {
        "type": "tcp",
        "interval": "30s",
        "tcp": {"host": "edge.internal", "port": 443, "tls": True},
    }
    metadata.setdefault("name", "edge")
    metadata.setdefault("namespace", "demo")
    metadata.setdefault("labels", {"team": "edge", "tier": "critical"})
    return parse_resource(
        doc("MonitorSet", {"template": template, "items": items}, **metadata), source="set.yaml"
    )


def test_each_item_becomes_a_monitor_named_after_the_set() -> None:
    rs = monitor_set([{"name": "web"}, {"name": "api"}])

    children = expand_monitor_set(rs)

    assert [(c.kind, c.namespace, c.name) for c in children] == [
        ("Monitor", "demo", "edge-web"),
        ("Monitor", "demo", "edge-api"),
    ]
    assert all(c.owner == rs.uid and c.source == "set.yaml" for c in children)
    assert all(isinstance(c.spec, MonitorSpec) and c.spec.interval == 30 for c in children)


def test_item_labels_are_merged_over_the_set_labels() -> None:
    rs = monitor_set([{"name": "web", "labels": {"tier": "low", "role": "web"}}, {"name": "api"}])

    web, api = expand_monitor_set(rs)

    assert web.labels == {"team": "edge", "tier": "low", "role": "web", "kubekuma.io/monitor-set": "edge"}
    assert api.labels == {"team": "edge", "tier": "critical", "kubekuma.io/monitor-set": "edge"}


def test_item_fields_are_deep_merged_into_the_template() -> None:
    rs = monitor_set([{"name": "web"}, {"name": "closed", "tcp": {"port": 1}, "retries": 3}])

    web, closed = expand_monitor_set(rs)

    assert web.raw_spec == {
        "type": "tcp",
        "interval": "30s",
        "tcp": {"host": "edge.internal", "port": 443, "tls": True},
    }
    assert closed.raw_spec == {
        "type": "tcp",
        "interval": "30s",
        "tcp": {"host": "edge.internal", "port": 1, "tls": True},
        "retries": 3,
    }
    assert (closed.spec.tcp.host, closed.spec.tcp.port, closed.spec.retries) == ("edge.internal", 1, 3)
    # the set's own template is not changed by an item's override
    assert rs.spec.template["tcp"]["port"] == 443


def test_an_item_list_replaces_the_template_list() -> None:
    template = {"type": "http", "http": {"url": "https://edge.test", "acceptedStatusCodes": ["200-299"]}}
    rs = monitor_set([{"name": "old", "http": {"acceptedStatusCodes": ["301"]}}], template)

    (old,) = expand_monitor_set(rs)

    assert old.spec.http.acceptedStatusCodes == ["301"]
    assert old.spec.http.url == "https://edge.test"


def test_child_uids_are_stable_per_set_and_item() -> None:
    first = expand_monitor_set(monitor_set([{"name": "web"}, {"name": "api"}]))
    again = expand_monitor_set(monitor_set([{"name": "api"}, {"name": "web"}]))
    other_set = expand_monitor_set(monitor_set([{"name": "web"}], name="core"))

    assert {c.name: c.uid for c in first} == {c.name: c.uid for c in again}
    assert first[0].uid != first[1].uid
    assert other_set[0].uid not in {c.uid for c in first}


def test_children_carry_the_set_generation() -> None:
    rs = monitor_set([{"name": "web"}], generation=4)

    assert [c.generation for c in expand_monitor_set(rs)] == [4]


def test_an_item_override_error_names_the_item() -> None:
    rs = monitor_set([{"name": "web"}, {"name": "closed", "tcp": {"port": "one"}}])

    with pytest.raises(ResourceError) as caught:
        expand_monitor_set(rs)

    exc = caught.value
    assert (exc.kind, exc.namespace, exc.name) == ("MonitorSet", "demo", "edge")
    assert [str(p) for p in exc.problems] == [
        "spec.items[closed].tcp.port: Input should be a valid integer, unable to parse string as an integer"
    ]


def test_an_item_that_breaks_a_type_rule_names_the_item() -> None:
    rs = monitor_set([{"name": "mixed", "http": {"url": "http://x.test"}}])

    with pytest.raises(ResourceError) as caught:
        expand_monitor_set(rs)

    assert [str(p) for p in caught.value.problems] == ["spec.items[mixed]: type tcp takes no http settings"]
