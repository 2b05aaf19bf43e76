"""Real credentials for tests: an ApiKey resource with its hashed key in a Secret, or a LocalUser.

Tests that are not about access still go through the access middleware: they call the API
with a key of the role they need, exactly as a script would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from falcon.testing import TestClient

from app.http.access.hashing import hash_password, key_hash, new_key
from app.resources.loader import SecretStore
from app.resources.registry import folder_uid
from app.store import ResourceRecord, Store


class MutableSecrets(SecretStore):
    """A SecretStore whose Secrets a test adds one by one (as `kubectl apply` of a Secret would)."""

    def __init__(self) -> None:
        super().__init__({})
        self.data: dict[tuple[str, str], dict[str, str]] = {}

    def _data(self, namespace: str, name: str) -> dict[str, str] | None:
        return self.data.get((namespace, name)) or super()._data(namespace, name)


def add_resource(store: Store, kind: str, namespace: str, name: str, spec: dict[str, Any]) -> None:
    uid = folder_uid(kind, namespace, name)
    store.resources.upsert(ResourceRecord(uid=uid, kind=kind, namespace=namespace, name=name, spec=spec,
                                          spec_hash=str(hash(repr(spec)))))  # fmt: skip


def grant_key(store: Store, secrets: MutableSecrets, role: str = "admin", name: str | None = None,
              scopes: list[str] | None = None, expires: datetime | None = None,
              namespace: str = "default") -> str:  # fmt: skip
    """Create an ApiKey (and its Secret) and return the key."""
    name = name or f"test-{role}"
    key = new_key()
    secrets.data[(namespace, f"{name}-key")] = {"hash": key_hash(key)}
    spec: dict[str, Any] = {"role": role, "scopes": scopes or [],
                            "keyHashSecretRef": {"name": f"{name}-key", "key": "hash"}}  # fmt: skip
    if expires is not None:
        spec["expiresAt"] = expires.isoformat()
    add_resource(store, "ApiKey", namespace, name, spec)
    return key


def add_user(store: Store, secrets: MutableSecrets, username: str, password: str, role: str = "viewer",
             totp: str | None = None, namespace: str = "default") -> None:  # fmt: skip
    secrets.data[(namespace, f"{username}-login")] = {"passwordHash": hash_password(password)}
    if totp:
        secrets.data[(namespace, f"{username}-totp")] = {"totp": totp}
    spec: dict[str, Any] = {
        "username": username, "role": role,
        "passwordHashSecretRef": {"name": f"{username}-login", "key": "passwordHash"},
        "totpSecretRef": {"name": f"{username}-totp", "key": "totp", "optional": True},
    }  # fmt: skip
    add_resource(store, "LocalUser", namespace, username, spec)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def client_as(app: Any, key: str) -> TestClient:
    return TestClient(app, headers=bearer(key))


# One read-only key for tests that run real processes on a manifests folder: they commit
# `reader_manifests()` next to their monitors and send `READER` with every API call.
def _reader() -> tuple[str, str]:
    import yaml

    from app.http.access.manifests import apikey_manifests

    docs, key = apikey_manifests("test-reader", "viewer", [], namespace="default")
    return key, "".join("---\n" + yaml.safe_dump(d) for d in docs)


READER_KEY, READER_MANIFESTS = _reader()
READER = bearer(READER_KEY)


def write_reader(folder: Any) -> None:
    from pathlib import Path

    (Path(folder) / "test-reader.yaml").write_text(READER_MANIFESTS)
