"""Importer tests: fixtures in each tool's own format, targets on loopback, and a way to run the result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.checkers import run_check
from app.checkers.base import CheckContext
from app.model import CheckResult
from app.resources.loader import FolderSnapshot, SecretStore, load_folder
from tests.targets import HttpTarget, http_target


@pytest.fixture
def web() -> Iterator[HttpTarget]:
    with http_target() as t:
        yield t


def validate(out: Path) -> FolderSnapshot:
    """`kubekuma validate` on the written folder, then the snapshot it read."""
    from app.cli import main

    assert main(["validate", str(out)]) == 0
    snap = load_folder(out, "default")
    assert not snap.problems, [line for p in snap.problems for line in p.lines()]
    return snap


def run_all(snap: FolderSnapshot, environ: dict[str, str] | None = None) -> dict[str, CheckResult]:
    """Every imported monitor that needs no store (groups and push do), run once through its checker;
    the variables in `environ` are the ones the operator allows."""
    secrets = SecretStore(snap.secrets, environ=environ or {}, allowed_env=(environ or {}).keys())
    results = {}
    for r in snap.resources:
        if r.kind != "Monitor" or r.spec.type.value in ("group", "push"):
            continue
        ctx = CheckContext(uid=r.uid, name=r.name, namespace=r.namespace, secrets=secrets)
        spec = r.spec.model_copy(update={"timeout": min(r.spec.timeout, 2.0)})
        results[r.name] = run_check(spec, ctx)
    return results
