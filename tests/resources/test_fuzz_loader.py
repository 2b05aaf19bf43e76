"""Property-based fuzzing of the manifest loader: any text, any structure, any bytes in a file.

The loader may refuse (a problem of the file), never crash, hang or expand without bound.
"""

from __future__ import annotations

import string
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.resources.bounded import ManifestTooLarge, load_documents
from app.resources.loader import load_folder
from app.resources.registry import KINDS, ResourceError, parse_resource

FAST = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

YAML_ALPHABET = string.ascii_letters + string.digits + " \n\t:-[]{},&*!|>'\"#%@`?.~=" + "\x00é😀"
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20))
trees = st.recursive(
    scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=30,
)  # fmt: skip


@FAST
@given(st.text(alphabet=YAML_ALPHABET, max_size=400))
def test_any_text_loads_or_is_refused(text: str) -> None:
    try:
        load_documents(text)
    except (yaml.YAMLError, ManifestTooLarge):
        pass


@FAST
@given(st.integers(1, 12), st.integers(2, 12))
def test_alias_fan_out_is_refused_before_it_expands(depth: int, fan: int) -> None:
    lines = ["a0: &a0 [x, x]"]
    for i in range(1, depth + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]")
    try:
        docs = load_documents("\n".join(lines) + "\n")
    except ManifestTooLarge:
        assert 2 * fan**depth > 50_000  # refused only when it really is large
        return
    assert docs and 2 * fan**depth < 400_000


def _document(kind: str, meta: Any, spec: Any) -> dict[str, Any]:
    return {"apiVersion": "kubekuma.io/v1alpha1", "kind": kind, "metadata": meta, "spec": spec}


@FAST
@given(
    st.sampled_from([*KINDS, "Monitr", "", "Secret"]),
    st.one_of(trees, st.fixed_dictionaries({"name": st.text(max_size=12)}, optional={"namespace": trees})),
    trees,
)
def test_any_document_is_a_resource_or_a_resource_error(kind: str, meta: Any, spec: Any) -> None:
    try:
        parse_resource(_document(kind, meta, spec))
    except ResourceError as exc:
        assert exc.problems


@settings(max_examples=60, deadline=5000, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=600), trees)
def test_any_file_in_a_folder_is_loaded_or_reported(data: bytes, tree: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "noise.yaml").write_bytes(data)
        (folder / "tree.yaml").write_text(yaml.safe_dump(_document("Monitor", {"name": "m"}, tree)))
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": tree, "data": tree, "stringData": tree}
        (folder / "secret.yaml").write_text(yaml.safe_dump(secret))
        (folder / "good.yaml").write_text(
            yaml.safe_dump(
                _document("Monitor", {"name": "good"}, {"type": "tcp", "tcp": {"host": "h", "port": 1}})
            )
        )
        snap = load_folder(folder)
        assert ("Monitor", "good") in {(r.kind, r.name) for r in snap.resources}
