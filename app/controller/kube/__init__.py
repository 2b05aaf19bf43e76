"""Kubernetes mode of the controller: watch the ten kinds, keep the cache, write status; plus the Lease.

Only this package (and the Kubernetes checker) talks to the Kubernetes API.
"""

from app.controller.kube.controller import KubeController
from app.controller.kube.lease import KubeLease
from app.controller.kube.secrets import KubeSecretStore
from app.controller.kube.settings import KubeSettings, api_client, kubernetes_mode

__all__ = ["KubeController", "KubeLease", "KubeSecretStore", "KubeSettings", "api_client", "kubernetes_mode"]
