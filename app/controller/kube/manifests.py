"""The cluster-mode half of API mutations: objects go to the Kubernetes API, and the
controller's watch brings them back into the cache as for any `kubectl apply`."""

from __future__ import annotations

from typing import Any

from app.resources.common import API_GROUP, API_VERSION
from app.resources.registry import KINDS
from app.resources.writer import WriteError


class KubeManifestWriter:
    target = "kubernetes"

    def __init__(self, api: Any) -> None:
        from kubernetes import client

        self.custom = client.CustomObjectsApi(api)
        self.core = client.CoreV1Api(api)

    def apply(self, doc: dict[str, Any], source: str | None) -> str:
        from kubernetes.client.exceptions import ApiException

        info = KINDS[doc["kind"]]
        meta = doc["metadata"]
        ns, name = meta.get("namespace"), meta["name"]
        try:
            if info.namespaced:
                current = self._get(info.plural, ns, name)
                if current is None:
                    self.custom.create_namespaced_custom_object(API_GROUP, API_VERSION, ns, info.plural, doc)
                else:
                    doc["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
                    self.custom.replace_namespaced_custom_object(
                        API_GROUP, API_VERSION, ns, info.plural, name, doc
                    )
            else:
                self.custom.patch_cluster_custom_object(API_GROUP, API_VERSION, info.plural, name, doc)
        except ApiException as exc:
            raise WriteError(f"the Kubernetes API refused it: {exc.status} {exc.reason}") from None
        return f"{info.plural}.{API_GROUP}/{ns + '/' if ns else ''}{name}"

    def _get(self, plural: str, ns: str, name: str) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            found: dict[str, Any] = self.custom.get_namespaced_custom_object(
                API_GROUP, API_VERSION, ns, plural, name
            )
            return found
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def delete(self, kind: str, namespace: str, name: str, source: str | None) -> bool:
        from kubernetes.client.exceptions import ApiException

        info = KINDS[kind]
        try:
            if info.namespaced:
                self.custom.delete_namespaced_custom_object(
                    API_GROUP, API_VERSION, namespace, info.plural, name
                )
            else:
                self.custom.delete_cluster_custom_object(API_GROUP, API_VERSION, info.plural, name)
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise WriteError(f"the Kubernetes API refused it: {exc.status} {exc.reason}") from None
        return True

    def apply_secret(self, namespace: str, name: str, data: dict[str, str]) -> str:
        from kubernetes.client.exceptions import ApiException

        body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
                "type": "Opaque", "stringData": data}  # fmt: skip
        try:
            try:
                self.core.create_namespaced_secret(namespace, body)
            except ApiException as exc:
                if exc.status != 409:
                    raise
                self.core.patch_namespaced_secret(name, namespace, body)
        except ApiException as exc:
            raise WriteError(f"the Kubernetes API refused the Secret: {exc.status} {exc.reason}") from None
        return f"secrets/{namespace}/{name}"
