"""The CRDs in crds/ and chart/files/crds/ are what the models generate, as structural as the API demands."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.cli import main
from app.resources.crd import all_crds, to_yaml
from app.resources.registry import KINDS
from tests.kube.structural import crd_problems, structural_problems

ROOT = Path(__file__).resolve().parents[2]
CRDS = all_crds()
GENERATED = {name: to_yaml(doc) for name, doc in CRDS.items()}


@pytest.mark.parametrize("folder", ["crds", "chart/files/crds"])
def test_checked_in_crds_are_not_stale(folder: str) -> None:
    on_disk = {p.name: p.read_text() for p in (ROOT / folder).glob("kubekuma.io_*.yaml")}
    assert set(on_disk) == set(GENERATED), f"run `kubekuma crds --out {folder}`"
    stale = [name for name, text in GENERATED.items() if on_disk[name] != text]
    assert not stale, f"{stale} are stale: run `kubekuma crds --out {folder}`"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_every_crd_is_structural(name: str) -> None:
    doc = yaml.safe_load(GENERATED[name])
    assert doc == CRDS[name]
    assert crd_problems(doc) == []
    assert "$ref" not in GENERATED[name] and "anyOf" not in GENERATED[name] and "&id" not in GENERATED[name]


def test_names_scope_and_category_let_kubectl_find_them() -> None:
    for info in KINDS.values():
        spec = CRDS[f"kubekuma.io_{info.plural}.yaml"]["spec"]
        assert spec["names"]["plural"] == info.plural and spec["names"]["kind"] == info.kind
        assert spec["names"].get("shortNames", []) == list(info.short_names)
        assert spec["names"]["categories"] == ["kubekuma"]  # `kubectl get kubekuma`
        assert spec["scope"] == ("Namespaced" if info.namespaced else "Cluster")
        (version,) = spec["versions"]
        assert version["subresources"] == {"status": {}} and version["storage"] and version["served"]


def monitor_version() -> dict[str, Any]:
    (version,) = CRDS["kubekuma.io_monitors.yaml"]["spec"]["versions"]
    return version


def test_monitor_printer_columns_show_what_a_user_asks_first() -> None:
    columns = [
        (c["name"], c["jsonPath"])
        for c in monitor_version()["additionalPrinterColumns"]
        if not c.get("priority")
    ]
    assert columns == [
        ("Type", ".spec.type"),
        ("Target", ".status.target"),
        ("State", ".status.state"),
        ("Uptime 24h", ".status.uptime.24h"),
        ("Latency", ".status.latencyMs"),
        ("Age", ".metadata.creationTimestamp"),
    ]


def test_monitor_schema_keeps_defaults_enums_patterns_and_says_which_field_a_type_needs() -> None:
    spec = monitor_version()["schema"]["openAPIV3Schema"]["properties"]["spec"]
    props = spec["properties"]
    assert props["interval"]["default"] == "1m" and props["timeout"]["default"] == "10s"
    assert props["interval"]["pattern"].startswith("^(0|")
    assert props["type"]["enum"] == [
        "http",
        "tcp",
        "dns",
        "ping",
        "websocket",
        "push",
        "steam",
        "kubernetes",
        "tls",
        "postgres",
        "mysql",
        "redis",
        "mqtt",
        "amqp",
        "nats",
        "grpc",
        "smtp",
        "group",
    ]
    assert props["http"]["nullable"] is True and props["http"]["required"] == ["url"]
    assert props["http"]["properties"]["body"]["properties"]["json"] == {
        "x-kubernetes-preserve-unknown-fields": True
    }
    rules = {r["rule"]: r["message"] for r in spec["x-kubernetes-validations"]}
    assert rules["self.type != 'http' || has(self.http)"] == "type http needs the field http"
    assert rules["self.type == 'tcp' || !has(self.tcp)"] == "only a tcp monitor takes tcp settings"
    assert "self.type != 'push' || has(self.push)" not in rules  # push settings are optional
    status = monitor_version()["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    assert set(status) >= {
        "state",
        "lastCheckTime",
        "lastTransitionTime",
        "latencyMs",
        "uptime",
        "certificateExpiresAt",
        "conditions",
        "observedGeneration",
    }


def test_models_with_extra_fields_preserve_them() -> None:
    provider = CRDS["kubekuma.io_notificationproviders.yaml"]["spec"]["versions"][0]
    spec = provider["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["x-kubernetes-preserve-unknown-fields"] is True and spec["required"] == ["type"]
    mset = CRDS["kubekuma.io_monitorsets.yaml"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    mspec = mset["properties"]["spec"]["properties"]
    assert mspec["template"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    assert mspec["items"]["items"]["x-kubernetes-preserve-unknown-fields"] is True


BROKEN = [
    ("ref-left", {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}}, "$ref is not allowed"),
    ("no-type", {"type": "object", "properties": {"a": {"description": "x"}}}, ".a: type is missing"),
    (
        "additional-false",
        {"type": "object", "properties": {}, "additionalProperties": False},
        "additionalProperties must be a schema",
    ),
    ("const", {"type": "string", "const": "x"}, "const is not allowed"),
    ("type-in-anyof", {"type": "string", "anyOf": [{"type": "string"}]}, "type may not appear inside anyOf"),
    ("array-without-items", {"type": "array"}, "an array needs one items schema"),
    (
        "bad-default",
        {"type": "string", "pattern": "^[0-9]+s$", "default": "soon"},
        "does not match the pattern",
    ),
    ("default-type", {"type": "integer", "default": "1"}, "is not a integer"),
    (
        "rule-names-nothing",
        {
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "x-kubernetes-validations": [{"rule": "has(self.b)"}],
        },
        "names b",
    ),
    (
        "nullable-alone",
        {"nullable": True, "x-kubernetes-preserve-unknown-fields": True},
        "nullable needs a type",
    ),
]


@pytest.mark.parametrize(("schema", "problem"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_the_structural_check_catches_what_the_api_server_would_reject(
    schema: dict[str, Any], problem: str
) -> None:
    assert any(problem in p for p in structural_problems(copy.deepcopy(schema))), structural_problems(schema)


def test_kubekuma_crds_prints_them_all(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["crds"]) == 0
    docs = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    assert sorted(d["spec"]["names"]["kind"] for d in docs) == sorted(KINDS)

    assert main(["crds", "--out", str(tmp_path / "out")]) == 0
    assert {p.name for p in (tmp_path / "out").iterdir()} == set(GENERATED)
