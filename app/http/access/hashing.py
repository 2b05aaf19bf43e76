"""Hashes of what must never be stored as it is: passwords (argon2id), keys and session ids (SHA-256).

Passwords are low-entropy, so they get a slow, salted argon2id hash. API keys, session ids and
recovery codes are 256-bit (or 80-bit single-use) random values: a fast SHA-256 is safe for
them and keeps a request's authentication well under a millisecond.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's current parameters
# A hash to verify against when the user does not exist, so both answers take as long.
_DUMMY = _hasher.hash(secrets.token_urlsafe(16))
KEY_PREFIX = "kk_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def digest(value: str) -> str:
    """The SHA-256 (hex) under which a key, session id or recovery code is stored."""
    return hashlib.sha256(value.encode()).hexdigest()


def key_hash(key: str) -> str:
    return "sha256:" + digest(key)


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
