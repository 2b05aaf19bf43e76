"""What the roles need from Kubernetes mode, in one object: the client, Leases, Secrets, the controller.

`KubeParts.detect` decides whether this process runs against a cluster (see settings.py);
`ElectedController` runs the controller only while this replica holds the controller
Lease, so standbys keep their watches closed and never write status.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from app.controller.kube.controller import KubeController
from app.controller.kube.lease import KubeLease
from app.controller.kube.secrets import KubeSecretStore
from app.controller.kube.settings import KubeSettings, api_client, kubernetes_mode
from app.coord import Elector, Lease
from app.resources.loader import SecretStore
from app.store import Store

log = logging.getLogger(__name__)


class KubeParts:
    def __init__(self, api: Any, settings: KubeSettings | None = None) -> None:
        self.api = api
        self.settings = settings or KubeSettings()
        self.namespace = self.settings.resolved_lease_namespace()

    @classmethod
    def detect(cls, manifests: str | None, force: bool = False) -> KubeParts | None:
        """Kubernetes parts when this process runs in Kubernetes mode, else None."""
        settings = KubeSettings()
        if not kubernetes_mode(settings, manifests, force):
            return None
        return cls(api_client(settings), settings)

    def lease(self, name: str, identity: str, duration: float) -> KubeLease:
        return KubeLease(self.api, self.namespace, f"kubekuma-{name}", identity, duration)

    def secrets(self) -> KubeSecretStore:
        return KubeSecretStore(self.api, ttl=self.settings.secret_cache_seconds)

    def controller(self, store: Store, secrets: SecretStore) -> KubeController:
        s = self.settings
        return KubeController(
            self.api,
            store,
            secrets,
            s.watch_namespaces,
            status_interval=s.status_interval,
            writes_per_second=s.status_writes_per_second,
        )


class ElectedController:
    """A KubeController that exists only while the Lease is held; a new one on every new term."""

    def __init__(
        self, make: Callable[[], KubeController], lease: Lease, renew_deadline: float, retry_period: float
    ) -> None:
        self.make = make
        self.current: KubeController | None = None
        self._lock = threading.Lock()
        self.elector = Elector(lease, self._lead, self._follow, renew_deadline, retry_period)

    def _lead(self) -> None:
        with self._lock:
            if self.current is None:
                self.current = self.make().start()

    def _follow(self) -> None:
        with self._lock:
            current, self.current = self.current, None
        if current is not None:
            current.stop()

    def start(self) -> ElectedController:
        self.elector.start()
        return self

    def stop(self) -> None:
        self.elector.stop()
        self._follow()
