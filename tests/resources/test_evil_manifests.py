"""The loader over a folder of hostile manifests: each one is a problem of its file, the rest loads."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.resources.bounded import ManifestTooLarge, expanded_size, load_documents
from app.resources.loader import load_folder
from tests.resources.evil import ALIAS_BOMB, EXPECTED, write_evil

GOOD = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {name: good, namespace: shop}
spec: {type: tcp, interval: 30s, tcp: {host: 127.0.0.1, port: 9}}
---
apiVersion: kubekuma.io/v1alpha1
kind: MonitorSet
metadata: {name: sites, namespace: shop}
spec:
  template: &t {type: http, interval: 60s, http: {url: "http://a/"}}
  items:
    - {name: a}
    - {name: b, http: {url: "http://b/"}}
"""


def test_evil_files_are_problems_of_their_file_and_good_ones_load(tmp_path: Path) -> None:
    write_evil(tmp_path)
    (tmp_path / "good.yaml").write_text(GOOD)
    started = time.perf_counter()
    snap = load_folder(tmp_path)
    elapsed = time.perf_counter() - started

    names = {(r.kind, r.name) for r in snap.resources}
    assert {
        ("Monitor", "good"),
        ("MonitorSet", "sites"),
        ("Monitor", "sites-a"),
        ("Monitor", "sites-b"),
    } <= names
    assert ("KubeKumaSettings", "default") in names  # cluster-scoped: no namespace
    assert next(r for r in snap.resources if r.kind == "KubeKumaSettings").namespace == ""
    lines = [line for p in snap.problems for line in p.lines()]
    for file, reason in EXPECTED.items():
        assert any(line.startswith(file) and reason in line for line in lines), (file, reason, lines)
    assert elapsed < 5, elapsed


def test_the_alias_bomb_is_refused_before_it_expands() -> None:
    started = time.perf_counter()
    with pytest.raises(ManifestTooLarge, match="expands to more than"):
        load_documents(ALIAS_BOMB)
    assert time.perf_counter() - started < 1


def test_reasonable_anchors_still_work() -> None:
    (doc,) = load_documents("base: &b {a: 1, b: [1, 2]}\nx: *b\ny: {<<: *b, c: 3}\n")
    assert doc["x"] == {"a": 1, "b": [1, 2]} and doc["y"] == {"a": 1, "b": [1, 2], "c": 3}


def test_expanded_size_counts_each_use_of_an_alias() -> None:
    import yaml

    node = yaml.compose("a: &a [1, 2, 3]\nb: [*a, *a]\n")
    # mapping + 2 keys + [1,2,3] (4) + [*a,*a] (1 + 2*4)
    assert expanded_size(node) == 1 + 2 + 4 + 9
