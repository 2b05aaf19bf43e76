"""What an import produced: manifests by kind, Secrets, and what could not be mapped."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

API_VERSION = "kubekuma.io/v1alpha1"
_FILES = {
    "Monitor": "monitors.yaml",
    "NotificationProvider": "notification-providers.yaml",
    "NotificationPolicy": "notification-policies.yaml",
    "StatusPage": "status-pages.yaml",
    "MaintenanceWindow": "maintenance-windows.yaml",
}


def k8s_name(text: str, fallback: str = "item") -> str:
    """A DNS-1123 name from free text: lower case, dashes, at most 63 characters."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].strip("-")
    return name or fallback


def label_value(text: str) -> str:
    """A Kubernetes label value: 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric."""
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:63].strip("-_.")
    return value


@dataclass
class Bundle:
    namespace: str
    source: str  # what was imported, for the report
    documents: list[dict[str, Any]] = field(default_factory=list)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)  # Secret name -> data
    unmapped: list[str] = field(default_factory=list)
    environment: set[str] = field(default_factory=set)  # variables the manifests read (`env:` refs)
    _names: dict[str, set[str]] = field(default_factory=dict)

    def name(self, kind: str, text: str, fallback: str = "item") -> str:
        """A name for a new object of `kind`, unique within this import."""
        base = k8s_name(text, fallback)
        taken = self._names.setdefault(kind, set())
        name, n = base, 2
        while name in taken:
            suffix = f"-{n}"
            name, n = base[: 63 - len(suffix)] + suffix, n + 1
        taken.add(name)
        return name

    def add(self, kind: str, name: str, spec: dict[str, Any], labels: dict[str, str] | None = None,
            annotations: dict[str, str] | None = None) -> None:  # fmt: skip
        meta: dict[str, Any] = {"name": name, "namespace": self.namespace}
        if labels:
            meta["labels"] = labels
        if annotations:
            meta["annotations"] = annotations
        self.documents.append({"apiVersion": API_VERSION, "kind": kind, "metadata": meta, "spec": spec})

    def secret(self, owner: str, key: str, value: str) -> dict[str, str]:
        """Keep `value` in the Secret `<owner>` under `key`; the SecretKeyRef pointing at it."""
        name = k8s_name(owner)
        self.secrets.setdefault(name, {})[key] = value
        return {"name": name, "key": key}

    def skip(self, where: str, what: str, why: str = "") -> None:
        self.unmapped.append(f"{where}: {what}" + (f" ({why})" if why else ""))

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.documents if d["kind"] == kind]

    def write(self, out: Path) -> list[Path]:
        """One YAML file per kind, secrets.yaml, and IMPORT-REPORT.md; the files written."""
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for kind, filename in _FILES.items():
            docs = self.of_kind(kind)
            if docs:
                written.append(_dump(out / filename, docs))
        if self.secrets:
            docs = [
                {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                 "metadata": {"name": n, "namespace": self.namespace}, "stringData": data}
                for n, data in sorted(self.secrets.items())
            ]  # fmt: skip
            header = (
                "# Credentials found in the import, in plain text. Do not commit this file as it is:\n"
                "# create the Secrets in the cluster (or seal them) and delete it.\n"
            )
            written.append(_dump(out / "secrets.yaml", docs, header))
        report = out / "IMPORT-REPORT.md"
        lines = [f"# Imported from {self.source}", ""]
        counts = {k: len(self.of_kind(k)) for k in _FILES}
        lines += [f"- {n} {k}" for k, n in counts.items() if n] + [f"- {len(self.secrets)} Secret", ""]
        if self.environment:
            names = ",".join(sorted(self.environment))
            lines += [
                "## Read from the environment", "",
                f"Some credentials stay environment variables: set `KUBEKUMA_ALLOWED_ENV={names}`",
                "where KubeKuma runs (and where you run `kubekuma validate`), or move them into Secrets.", "",
            ]  # fmt: skip
        lines += ["## Not carried over", ""]
        lines += [f"- {line}" for line in self.unmapped] or ["- nothing"]
        report.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(report)
        return written


def _dump(path: Path, docs: list[dict[str, Any]], header: str = "") -> Path:
    text = yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True, width=110)
    path.write_text(header + text, encoding="utf-8")
    return path


def duration(seconds: float | int | None) -> str | None:
    """Seconds as a manifest duration ("90s", "5m", "2h"), None for nothing."""
    if seconds is None:
        return None
    s = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"
