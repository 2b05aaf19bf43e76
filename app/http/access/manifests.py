"""The manifests `kubekuma user create` and `kubekuma apikey create` print: ready to commit.

Each Secret holds only a hash (argon2id for a password, SHA-256 for a key); the key itself
is returned once to be shown once, and never written anywhere.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from app.http.access.hashing import hash_password, key_hash, new_key
from app.resources.common import FULL_API_VERSION


def _secret(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque", "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }  # fmt: skip


def user_manifests(
    username: str, password: str, role: str, namespace: str = "default"
) -> list[dict[str, Any]]:
    """A LocalUser and the Secret with its argon2id hash; TOTP goes to `<name>-totp` once enrolled."""
    user = {
        "apiVersion": FULL_API_VERSION, "kind": "LocalUser",
        "metadata": {"name": username, "namespace": namespace},
        "spec": {
            "username": username, "role": role,
            "passwordHashSecretRef": {"name": f"{username}-password", "key": "hash"},
            "totpSecretRef": {"name": f"{username}-totp", "key": "totp", "optional": True},
        },
    }  # fmt: skip
    return [user, _secret(f"{username}-password", namespace, {"hash": hash_password(password)})]


def apikey_manifests(name: str, role: str, scopes: list[str], namespace: str = "default",
                     expires: datetime | None = None) -> tuple[list[dict[str, Any]], str]:  # fmt: skip
    """An ApiKey and the Secret with the key's SHA-256, plus the key (to be shown once)."""
    key = new_key()
    spec: dict[str, Any] = {"role": role, "scopes": scopes,
                            "keyHashSecretRef": {"name": f"{name}-apikey", "key": "hash"}}  # fmt: skip
    if expires is not None:
        spec["expiresAt"] = expires.isoformat().replace("+00:00", "Z")
    meta = {"name": name, "namespace": namespace}
    doc = {"apiVersion": FULL_API_VERSION, "kind": "ApiKey", "metadata": meta, "spec": spec}
    return [doc, _secret(f"{name}-apikey", namespace, {"hash": key_hash(key)})], key
