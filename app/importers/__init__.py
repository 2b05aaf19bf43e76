"""Importers: another monitoring tool's configuration in, KubeKuma manifests out.

Each importer reads its tool's own format (Uptime Kuma's database or backup, Gatus' YAML)
and fills a `Bundle`: the manifests it could map, the Secrets holding the credentials it
found, and a line for every setting it could not carry over, so nothing is dropped
silently. `Bundle.write` lays them out as files ready to review and commit.
"""

from __future__ import annotations

from app.importers.bundle import Bundle

__all__ = ["Bundle"]
