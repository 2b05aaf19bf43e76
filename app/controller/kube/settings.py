"""When KubeKuma runs against a Kubernetes API, and how it reaches it.

Kubernetes mode is on when `--kubernetes` (or `KUBEKUMA_KUBERNETES=true`) says so, or when
no manifests folder is configured and a cluster is reachable by configuration: the
in-cluster service account, `KUBECONFIG`, or `~/.kube/config`. `KUBEKUMA_KUBERNETES=false`
turns it off whatever is found. The client is built on its own `Configuration`, never the
kubernetes package's global default, so several can live in one process (tests do).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KUBEKUMA_", extra="ignore", frozen=True)

    kubernetes: bool | None = Field(None, description="force Kubernetes mode on or off; unset = detect")
    kubeconfig: str | None = Field(None, description="kubeconfig file; default KUBECONFIG or ~/.kube/config")
    watch_namespaces: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="namespaces to watch; empty = all"
    )
    lease_namespace: str | None = Field(None, description="namespace of the Leases; default: the pod's own")
    status_interval: float = Field(
        30.0, gt=0, description="at most one live status write per monitor this often"
    )
    status_writes_per_second: float = Field(20.0, gt=0, description="ceiling on status writes to the API")
    secret_cache_seconds: float = Field(
        30.0, ge=0, description="how long a Secret read from the API is reused"
    )

    @field_validator("watch_namespaces", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    def resolved_lease_namespace(self) -> str:
        if self.lease_namespace:
            return self.lease_namespace
        ns_file = SERVICE_ACCOUNT / "namespace"
        if ns_file.is_file():
            return ns_file.read_text().strip() or "default"
        return "default"


def _kubeconfig_path(settings: KubeSettings) -> str | None:
    for candidate in (
        settings.kubeconfig,
        os.environ.get("KUBECONFIG"),
        str(Path.home() / ".kube" / "config"),
    ):
        if candidate and Path(candidate.split(os.pathsep)[0]).expanduser().is_file():
            return candidate
    return None


def in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and (SERVICE_ACCOUNT / "token").is_file()


def kubernetes_mode(settings: KubeSettings, manifests: str | None, flag: bool = False) -> bool:
    if flag or settings.kubernetes is True:
        return True
    if settings.kubernetes is False or manifests:
        return False
    return in_cluster() or _kubeconfig_path(settings) is not None


def api_client(settings: KubeSettings) -> Any:
    """A kubernetes ApiClient from the in-cluster service account or a kubeconfig file."""
    from kubernetes import client, config

    cfg = client.Configuration()
    if in_cluster() and not settings.kubeconfig:
        config.load_incluster_config(client_configuration=cfg)
    else:
        path = _kubeconfig_path(settings)
        if path is None:
            raise config.ConfigException(
                "Kubernetes mode needs the in-cluster service account, KUBECONFIG or ~/.kube/config"
            )
        config.load_kube_config(config_file=path, client_configuration=cfg)
    return client.ApiClient(cfg)
