"""Who may log in and which keys are valid: LocalUser and ApiKey resources with their Secrets.

Rebuilt from the resource cache when its revision moves (and every few seconds anyway,
because a Secret can change without the cache moving). Each user carries a fingerprint of
its definition: a session remembers the fingerprint it logged in with, so a user removed,
disabled, given a new role or a new password loses every session at the next request.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from app.http.access.hashing import digest
from app.resources.kinds import ApiKeySpec, KubeKumaSettingsSpec, LocalUserSpec
from app.resources.loader import SecretError, SecretStore
from app.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    password_hash: str
    totp_secret: str | None
    fingerprint: str
    source: str = "local"  # local | initial | oidc
    namespace: str = "default"
    resource: str = ""  # LocalUser namespace/name


@dataclass(frozen=True, slots=True)
class Key:
    uid: str
    namespace: str
    name: str
    role: str
    scopes: tuple[str, ...]
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Directory:
    users: dict[str, User]
    keys: dict[str, Key]  # by "sha256:<hex>"
    settings: KubeKumaSettingsSpec
    oidc_configured: bool
    oidc_fingerprint: str = ""  # OIDC sessions end when the OIDC settings change


def _fingerprint(*parts: object) -> str:
    return digest("\x1f".join(str(p) for p in parts))[:32]


def build_directory(store: Store, secrets: SecretStore, initial: User | None) -> Directory:
    settings = KubeKumaSettingsSpec()
    for rec in store.resources.list(kind="KubeKumaSettings"):
        if rec.name == "default" and rec.valid and rec.spec:
            try:
                settings = KubeKumaSettingsSpec.model_validate(rec.spec)
            except ValidationError:
                log.warning("KubeKumaSettings default is invalid; access uses the defaults")
    users: dict[str, User] = {}
    local_enabled = settings.auth.local.get("enabled", True)
    records = store.resources.list(kind="LocalUser")
    for rec in records:
        if not rec.valid or not rec.spec or not local_enabled:
            continue
        try:
            spec = LocalUserSpec.model_validate(rec.spec)
            if spec.disabled:
                continue
            pw = secrets.require(spec.passwordHashSecretRef, rec.namespace)
            totp = secrets.get(spec.totpSecretRef, rec.namespace) if spec.totpSecretRef else None
        except (ValidationError, SecretError) as exc:
            log.warning("LocalUser %s/%s cannot log in: %s", rec.namespace, rec.name, exc)
            continue
        users[spec.username] = User(
            spec.username, spec.role, pw, totp or None,
            _fingerprint(rec.uid, spec.role, pw, totp), "local", rec.namespace, f"{rec.namespace}/{rec.name}",
        )  # fmt: skip
    oidc = settings.auth.oidc is not None
    if initial is not None and not records and not oidc:
        users[initial.name] = initial
    keys: dict[str, Key] = {}
    for rec in store.resources.list(kind="ApiKey"):
        if not rec.valid or not rec.spec:
            continue
        try:
            kspec = ApiKeySpec.model_validate(rec.spec)
            h = secrets.require(kspec.keyHashSecretRef, rec.namespace).strip()
        except (ValidationError, SecretError) as exc:
            log.warning("ApiKey %s/%s is not usable: %s", rec.namespace, rec.name, exc)
            continue
        expires = kspec.expiresAt
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        keys[h] = Key(rec.uid, rec.namespace, rec.name, kspec.role, tuple(kspec.scopes), expires)
    oidc_fp = _fingerprint(settings.auth.oidc.model_dump_json()) if settings.auth.oidc else ""
    return Directory(users, keys, settings, oidc, oidc_fp)


class DirectoryCache:
    """The current Directory; rebuilt when the resource revision moves or `max_age` passed."""

    def __init__(
        self, store: Store, secrets: SecretStore, initial: User | None = None, ttl: float = 1.0
    ) -> None:
        self.store, self.secrets, self.initial = store, secrets, initial
        # Secrets change without moving the revision: rebuild anyway every five revision reads.
        self.ttl, self.max_age = ttl, 5 * ttl
        self._lock = threading.Lock()
        self._value: Directory | None = None
        self._revision = -1
        self._checked = self._built = 0.0

    def get(self) -> Directory:
        now = time.monotonic()
        value = self._value
        if value is not None and now - self._checked < self.ttl:
            return value
        with self._lock:
            if self._value is not None and now - self._checked < self.ttl:
                return self._value
            self._checked = now
            try:
                rev = self.store.resources.revision()
                if self._value is None or rev != self._revision or now - self._built > self.max_age:
                    self._value = build_directory(self.store, self.secrets, self.initial)
                    self._revision, self._built = rev, now
            except Exception as exc:
                if self._value is None:
                    raise
                log.warning("access: cannot read users and keys (%s); using the last ones", exc)
            return self._value

    def refresh(self) -> Directory:
        with self._lock:
            self._checked = 0.0
            self._revision = -1
        return self.get()
