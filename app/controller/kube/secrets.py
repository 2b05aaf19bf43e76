"""Secrets read through the Kubernetes API when a check or a validation needs one.

Same interface as the folder's `SecretStore` (`get`, `require`), so workers and the
controller do not care where a Secret lives. A Secret is fetched with one GET (RBAC:
`secrets get`, never list or watch) and reused for `ttl` seconds; a missing one is
remembered as missing for the same time. Values stay in memory: they are never logged,
stored in the database, or put into an error message (which names the reference only).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from app.resources.loader import SecretError, SecretStore

ENV_REFUSED = (
    "secretKeyRef.env is not available in Kubernetes mode (it would read KubeKuma's own environment); "
    "reference a Secret by name and key"
)


class KubeSecretStore(SecretStore):
    def __init__(
        self, api: Any, ttl: float = 30.0, environ: Any = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(None, environ)
        self.api = api
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, dict[str, str] | None]] = {}
        self.reads = 0  # API reads, for tests and metrics

    def _fetch(self, namespace: str, name: str) -> dict[str, str] | None:
        from kubernetes import client
        from kubernetes.client.rest import ApiException

        self.reads += 1
        try:
            resp = client.CoreV1Api(self.api).read_namespaced_secret(
                name, namespace, _preload_content=False, _request_timeout=10
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise SecretError(
                f"cannot read Secret {namespace}/{name}: the API answered HTTP {exc.status}"
            ) from None
        except Exception as exc:  # connection trouble: say so without the value or the body
            raise SecretError(f"cannot read Secret {namespace}/{name}: {type(exc).__name__}") from None
        body = json.loads(resp.data)
        data = {k: base64.b64decode(v).decode() for k, v in (body.get("data") or {}).items()}
        data.update({k: str(v) for k, v in (body.get("stringData") or {}).items()})
        return data

    def secret(self, namespace: str, name: str) -> dict[str, str] | None:
        """The data of a Secret (None when it does not exist), from the cache while it is fresh."""
        key = (namespace, name)
        now = self._clock()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        data = self._fetch(namespace, name)
        with self._lock:
            self._cache[key] = (now, data)
        return data

    def forget(self, namespace: str | None = None, name: str | None = None) -> None:
        with self._lock:
            if namespace is None:
                self._cache.clear()
            else:
                self._cache.pop((namespace, name or ""), None)

    def replace(self, secrets: dict[tuple[str, str], dict[str, str]]) -> None:
        """Folder Secrets have no meaning here; the API is the source."""

    def env_refusal(self, variable: str) -> str | None:
        # Whoever may create a Monitor in a watched namespace must not read KubeKuma's own environment.
        return ENV_REFUSED

    def _data(self, namespace: str, name: str) -> dict[str, str] | None:
        return self.secret(namespace, name)
