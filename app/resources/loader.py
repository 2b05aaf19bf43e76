"""Reading a folder of manifests: every *.yaml/*.yml below it, many documents per file.

The loader only parses; validation is `parse_resource`'s. Kubernetes `Secret` manifests
in the folder are collected apart and feed `SecretStore`, so folder mode resolves
`secretKeyRef`s the same way a cluster does.

Manifests come from many hands, so reading one is bounded (`app/resources/bounded.py`):
file size, nesting depth and the size of a document once its YAML aliases are expanded.
A file that breaks a bound, is not UTF-8, or is a symbolic link that leads nowhere is
reported as a problem of that file and skipped; the other files load as usual.
`secretKeyRef.env` reads only variables the operator allowed by name.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.resources import groups
from app.resources.bounded import ManifestTooLarge, read_documents
from app.resources.common import SecretKeyRef
from app.resources.registry import Problem, Resource, ResourceError, expand_monitor_set, parse_resource

MANIFEST_SUFFIXES = (".yaml", ".yml")


@dataclass(slots=True)
class LoadProblem:
    source: str
    kind: str
    name: str
    namespace: str
    problems: list[Problem]

    def lines(self) -> list[str]:
        who = f"{self.kind or '?'} {self.namespace + '/' if self.namespace else ''}{self.name or '?'}"
        return [f"{self.source}: {who}: {p}" for p in self.problems]


@dataclass(slots=True)
class FolderSnapshot:
    resources: list[Resource] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    secrets: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)


def manifest_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix in MANIFEST_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )


def folder_fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap change detection: path, size and mtime of every manifest file."""
    out = []
    for p in manifest_files(root):
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        out.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _documents(path: Path) -> Iterator[tuple[int, Any]]:
    for i, doc in enumerate(read_documents(path)):
        if doc is not None:
            yield i, doc


def broken_links(root: Path) -> list[Path]:
    """Manifest-named symbolic links that lead nowhere (a loop, or a target that is gone)."""
    if root.is_file():
        return []
    out = []
    for p in root.rglob("*"):
        if p.suffix in MANIFEST_SUFFIXES and p.is_symlink() and not p.name.startswith("."):
            try:
                p.resolve(strict=True)
            except (OSError, RuntimeError):
                out.append(p)
    return sorted(out)


def _secret_data(doc: dict[str, Any]) -> dict[str, str]:
    data: dict[str, str] = {}
    for k, v in (doc.get("data") or {}).items():
        try:
            data[k] = base64.b64decode(str(v), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            # Say which key, never what is in it.
            raise ValueError(f"data.{k} is not base64-encoded UTF-8 text") from None
    for k, v in (doc.get("stringData") or {}).items():
        data[k] = str(v)
    return data


def load_folder(root: str | os.PathLike[str], default_namespace: str = "default") -> FolderSnapshot:
    """Parse and validate every manifest below `root`; expand MonitorSets; collect Secrets."""
    root_path = Path(root)
    snap = FolderSnapshot()
    seen: dict[tuple[str, str, str], str] = {}
    for link in broken_links(root_path):
        reason = "a symbolic link that loops or leads nowhere; skipped"
        snap.problems.append(LoadProblem(str(link.relative_to(root_path)), "", "", "", [Problem("", reason)]))
    for path in manifest_files(root_path):
        rel = str(path.relative_to(root_path)) if path != root_path else path.name
        try:
            docs = list(_documents(path))
        except ManifestTooLarge as exc:
            snap.problems.append(LoadProblem(rel, "", "", "", [Problem("", f"{exc}; skipped")]))
            continue
        except UnicodeDecodeError as exc:
            reason = f"not UTF-8 text (byte {exc.start}); skipped"
            snap.problems.append(LoadProblem(rel, "", "", "", [Problem("", reason)]))
            continue
        except (yaml.YAMLError, OSError) as exc:
            snap.problems.append(LoadProblem(rel, "", "", "", [Problem("", f"not valid YAML: {exc}")]))
            continue
        for index, doc in docs:
            source = f"{rel}#{index}" if len(docs) > 1 else rel
            if isinstance(doc, dict) and doc.get("kind") == "Secret" and doc.get("apiVersion") == "v1":
                raw_meta = doc.get("metadata")
                meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
                ns = str(meta.get("namespace") or default_namespace)
                try:
                    snap.secrets[(ns, str(meta.get("name")))] = _secret_data(doc)
                except (ValueError, TypeError, AttributeError) as exc:
                    snap.problems.append(
                        LoadProblem(source, "Secret", str(meta.get("name")), ns, [Problem("data", str(exc))])
                    )
                continue
            try:
                res = parse_resource(doc, default_namespace, source)
                key = (res.kind, res.namespace, res.name)
                if key in seen:
                    raise ResourceError(
                        [Problem("metadata.name", f"declared twice; first in {seen[key]}")],
                        res.kind,
                        res.name,
                        res.namespace,
                    )
                seen[key] = source
                snap.resources.append(res)
                if res.kind == "MonitorSet":
                    for child in expand_monitor_set(res):
                        ckey = ("Monitor", child.namespace, child.name)
                        if ckey in seen:
                            raise ResourceError(
                                [
                                    Problem(
                                        "spec.items", f"Monitor {child.name} already declared in {seen[ckey]}"
                                    )
                                ],
                                res.kind,
                                res.name,
                                res.namespace,
                            )
                        seen[ckey] = source
                        snap.resources.append(child)
            except ResourceError as exc:
                snap.problems.append(LoadProblem(source, exc.kind, exc.name, exc.namespace, exc.problems))
    _refuse_group_cycles(snap)
    return snap


def _refuse_group_cycles(snap: FolderSnapshot) -> None:
    """Group monitors that follow each other in a circle are problems, not resources."""
    monitors = [r for r in snap.resources if r.kind == "Monitor"]
    loops = groups.cycles([groups.view(r.namespace, r.name, r.labels, r.raw_spec) for r in monitors])
    refused: set[tuple[str, str]] = set()
    for loop in loops:
        for r in monitors:
            if (
                r.spec.type == "group"
                and (r.namespace, r.name) in loop
                and (r.namespace, r.name) not in refused
            ):
                refused.add((r.namespace, r.name))
                why = f"groups follow each other in a circle: {groups.describe_cycle(loop)}"
                snap.problems.append(
                    LoadProblem(r.source, r.kind, r.name, r.namespace, [Problem("spec.group", why)])
                )
    snap.resources = [
        r for r in snap.resources if r.kind != "Monitor" or (r.namespace, r.name) not in refused
    ]


class SecretError(Exception):
    """A referenced Secret or key is missing. The message names the reference, never a value."""


class SecretStore:
    """Resolves SecretKeyRefs from folder Secrets and the environment. Values never leave memory.

    `env:` reads only the variables in `allowed_env` (KUBEKUMA_ALLOWED_ENV, empty by default):
    the process environment also holds KubeKuma's own credentials, such as the database URL.
    """

    def __init__(
        self,
        secrets: dict[tuple[str, str], dict[str, str]] | None = None,
        environ: Any = None,
        allowed_env: Iterable[str] = (),
    ) -> None:
        self._secrets = dict(secrets or {})
        self._env = environ if environ is not None else os.environ
        self.allowed_env = frozenset(allowed_env)

    def env_refusal(self, variable: str) -> str | None:
        """Why `secretKeyRef.env` may not read `variable`, or None when it may."""
        if variable in self.allowed_env:
            return None
        return (
            f"environment variable {variable} is not allowed; "
            "the operator lists readable ones in KUBEKUMA_ALLOWED_ENV"
        )

    def replace(self, secrets: dict[tuple[str, str], dict[str, str]]) -> None:
        self._secrets = dict(secrets)

    def _data(self, namespace: str, name: str) -> dict[str, str] | None:
        """Where a Secret's data comes from: the folder's Secrets here; subclasses read elsewhere."""
        return self._secrets.get((namespace, name))

    def get(self, ref: SecretKeyRef, namespace: str) -> str | None:
        if ref.env:
            if (refusal := self.env_refusal(ref.env)) is not None:
                raise SecretError(refusal)
            value = self._env.get(ref.env)
            if value is None and not ref.optional:
                raise SecretError(f"environment variable {ref.env} is not set")
            return value
        data = self._data(namespace, ref.name or "")
        if data is None:
            if ref.optional:
                return None
            raise SecretError(f"Secret {namespace}/{ref.name} not found")
        if ref.key not in data:
            if ref.optional:
                return None
            raise SecretError(f"Secret {namespace}/{ref.name} has no key {ref.key}")
        return data[ref.key]

    def require(self, ref: SecretKeyRef, namespace: str) -> str:
        value = self.get(ref, namespace)
        if value is None:
            raise SecretError(f"Secret {namespace}/{ref.name} key {ref.key} is empty")
        return value
