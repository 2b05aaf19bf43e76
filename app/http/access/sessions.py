"""Server-side login sessions behind an opaque cookie.

The cookie holds 256 random bits; the database holds only their SHA-256, with the user's
fingerprint, the CSRF token's hash and two times. A session ends on logout, after
`sessionIdleTimeout` without use, `sessionMaxAge` after login, or at once when its user
is removed or changed (the fingerprint no longer matches). Lookups are cached for a
second or two so a request costs no database read; logout clears the cache entry at once.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.http.access.directory import Directory, User
from app.http.access.hashing import digest
from app.store import SessionView, Store

COOKIE = "kk_session"
CSRF_COOKIE = "kk_csrf"
CSRF_HEADER = "X-CSRF-Token"
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie: str  # handed to the browser once, never stored
    csrf: str
    view: SessionView


class Sessions:
    def __init__(self, store: Store, clock: Callable[[], datetime], cache_ttl: float = 2.0) -> None:
        self.store, self.clock, self.cache_ttl = store, clock, cache_ttl
        self._cache: dict[str, tuple[float, SessionView]] = {}
        self._lock = threading.Lock()

    def create(self, user: User, address: str | None) -> NewSession:
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.clock()
        view = SessionView(digest(cookie), user.name, user.role, user.source, user.fingerprint, digest(csrf),
                           now, now)  # fmt: skip
        self.store.sessions.create(view, address)
        return NewSession(cookie, csrf, view)

    def end(self, id_hash: str) -> None:
        with self._lock:
            self._cache.pop(id_hash, None)
        self.store.sessions.delete(id_hash)

    def resolve(self, cookie: str, directory: Directory) -> tuple[SessionView, User] | None:
        """The live session behind `cookie` and its user, or None (and the row goes when it is dead)."""
        id_hash = digest(cookie)
        mono = time.monotonic()
        cached = self._cache.get(id_hash)
        view = cached[1] if cached and mono - cached[0] < self.cache_ttl else None
        if view is None:
            view = self.store.sessions.get(id_hash)
            if view is None:
                with self._lock:
                    self._cache.pop(id_hash, None)
                return None
            with self._lock:
                self._cache[id_hash] = (mono, view)
        now = self.clock()
        auth = directory.settings.auth
        if view.source == "oidc":  # not in the directory: valid while the OIDC settings stay as they were
            same = directory.oidc_configured and view.fingerprint == directory.oidc_fingerprint
            user = User(view.username, view.role, "", None, view.fingerprint, "oidc") if same else None
        else:
            user = directory.users.get(view.username)
        alive = (
            user is not None
            and user.fingerprint == view.fingerprint
            and now - view.seen_at < timedelta(seconds=auth.sessionIdleTimeout)
            and now - view.created_at < timedelta(seconds=auth.sessionMaxAge)
        )
        if not alive or user is None:
            self.end(id_hash)
            return None
        if now - view.seen_at > TOUCH_EVERY:
            self.store.sessions.touch(id_hash, now)
            fresh = SessionView(view.id_hash, view.username, view.role, view.source, view.fingerprint,
                                view.csrf_hash, view.created_at, now)  # fmt: skip
            with self._lock:
                self._cache[id_hash] = (mono, fresh)
        return view, user
