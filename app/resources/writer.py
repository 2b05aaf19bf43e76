"""Writing manifests back where they came from: the folder-mode half of API mutations.

A new object goes to `<folder>/kubekuma-api/<namespace>.<kind>.<name>.yaml`, one object per
file, so a `git diff` shows exactly what the API changed. An object that already lives in a
file is changed in that file: alone there, the file is replaced; among others, only its
own document is replaced and the rest of the file (comments included) stays as it was.
Every write goes to a temporary file in the same folder and is renamed over the old one,
so the controller never reads half a file. Secrets are written with mode 0600.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Protocol

import yaml

API_FOLDER = "kubekuma-api"
_SEPARATOR = re.compile(r"^---\s*$", re.MULTILINE)


class WriteError(Exception):
    """The change cannot be written; the message says why (and names no value)."""


class ResourceWriter(Protocol):
    """Where mutations go: the manifests folder, or the Kubernetes API."""

    target: str  # "folder" or "kubernetes"

    def apply(self, doc: dict[str, Any], source: str | None) -> str: ...

    def delete(self, kind: str, namespace: str, name: str, source: str | None) -> bool: ...

    def apply_secret(self, namespace: str, name: str, data: dict[str, str]) -> str: ...


def dump(doc: dict[str, Any]) -> str:
    # Through JSON first: specs read from the database are the ORM's tracked dicts and lists,
    # and times parsed by the models are datetimes; YAML should see plain data.
    plain = json.loads(json.dumps(doc, default=str))
    return yaml.safe_dump(plain, sort_keys=False, default_flow_style=False, allow_unicode=True)


def atomic_write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kk-", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _chunks(text: str) -> list[str]:
    """The file's documents as text, split on `---` lines (the separators stay with what follows)."""
    starts = [0, *[m.start() for m in _SEPARATOR.finditer(text)], len(text)]
    return [text[a:b] for a, b in itertools.pairwise(starts) if b > a]


def _replace_document(text: str, index: int, new: str | None) -> str:
    """`text` with its `index`-th non-empty document replaced by `new` (or removed when None)."""
    chunks = _chunks(text)
    seen = -1
    for i, chunk in enumerate(chunks):
        body = _SEPARATOR.sub("", chunk, count=1)
        if yaml.safe_load(body) is None:
            continue
        seen += 1
        if seen == index:
            prefix = "---\n" if _SEPARATOR.match(chunk) else ""
            chunks[i] = "" if new is None else prefix + new
            out = "".join(chunks)
            before = [d for d in yaml.safe_load_all(text) if d is not None]
            after = [d for d in yaml.safe_load_all(out) if d is not None]
            if len(after) != len(before) - (new is None):
                break
            return out
    raise WriteError("cannot find the object's own document in its file; edit the file by hand")


class FolderWriter:
    target = "folder"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_for(self, kind: str, namespace: str, name: str) -> Path:
        return self.root / API_FOLDER / f"{namespace or '_cluster'}.{kind.lower()}.{name}.yaml"

    def _existing(self, source: str | None) -> tuple[Path, int | None] | None:
        if not source:
            return None
        rel, _, index = source.partition("#")
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            return None
        return path, int(index) if index.isdigit() else None

    def apply(self, doc: dict[str, Any], source: str | None) -> str:
        meta = doc.get("metadata") or {}
        found = self._existing(source)
        if found is None:
            path = self.path_for(doc["kind"], meta.get("namespace", ""), meta["name"])
            atomic_write(path, dump(doc))
        elif found[1] is None:
            path = found[0]
            atomic_write(path, dump(doc))
        else:
            path = found[0]
            atomic_write(path, _replace_document(path.read_text(encoding="utf-8"), found[1], dump(doc)))
        return str(path.relative_to(self.root))

    def delete(self, kind: str, namespace: str, name: str, source: str | None) -> bool:
        found = self._existing(source)
        if found is None:
            return False
        path, index = found
        if index is None:
            path.unlink()
        else:
            atomic_write(path, _replace_document(path.read_text(encoding="utf-8"), index, None))
        return True

    def apply_secret(self, namespace: str, name: str, data: dict[str, str]) -> str:
        doc = {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
            "type": "Opaque",
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }  # fmt: skip
        path = self.path_for("Secret", namespace, name)
        atomic_write(path, dump(doc), mode=0o600)
        return str(path.relative_to(self.root))
