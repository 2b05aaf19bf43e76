"""The one place every request is decided: authenticate, then allow or refuse.

`Access` holds the parts (users and keys, sessions, throttle, audit, the resource writer);
`AccessMiddleware.process_resource` runs before every responder. Public routes pass;
every other route needs the role and scope `policy.requirement` names, else 401 (nobody
is asking) or 403 (the wrong one is). A cookie-authenticated mutation must also echo the
session's CSRF token in X-CSRF-Token, and with `readOnly: true` every mutation is 403.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import falcon

from app.http.access.audit import Auditor
from app.http.access.directory import Directory, DirectoryCache, User
from app.http.access.hashing import digest, key_hash, same
from app.http.access.policy import requirement
from app.http.access.principal import ANONYMOUS, Principal
from app.http.access.sessions import COOKIE, CSRF_HEADER, Sessions
from app.http.access.throttle import LoginThrottle
from app.model import utc_now
from app.resources.loader import SecretStore
from app.resources.writer import ResourceWriter
from app.store import Store
from app.store.timeutil import iso

ANONYMOUS_VIEWER = Principal("anonymous", "viewer", "anonymous")
KEY_USE_EVERY = 60.0  # seconds between two records of one key's use (audit and status)


@dataclass
class AccessOptions:
    """What differs between processes and tests: where Secrets come from, the clock, first-start admin."""

    secrets: SecretStore = field(default_factory=SecretStore)
    clock: Callable[[], datetime] = utc_now
    initial_admin: User | None = None
    writer: ResourceWriter | None = None  # where mutations go; None: they answer 503
    # How often the resource revision is read to follow users, keys and settings (seconds).
    directory_ttl: float = 1.0


class Access:
    def __init__(self, store: Store, options: AccessOptions) -> None:
        self.store, self.options, self.clock = store, options, options.clock
        self.directory = DirectoryCache(
            store, options.secrets, options.initial_admin, ttl=options.directory_ttl
        )
        self.sessions = Sessions(store, options.clock)
        self.throttle = LoginThrottle(store, options.clock)
        self.audit = Auditor(store, options.clock)
        self._key_used: dict[str, float] = {}
        self._lock = threading.Lock()

    def authenticate(self, req: falcon.Request, directory: Directory) -> Principal:
        header = req.get_header("Authorization")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise unauthorized("Authorization must be 'Bearer <API key>'")
            return self._key(req, token.strip(), directory)
        cookie = req.cookies.get(COOKIE)
        if cookie:
            found = self.sessions.resolve(cookie, directory)
            if found is not None:
                view, user = found
                return Principal(user.name, user.role, "session", session_hash=view.id_hash)
        return ANONYMOUS

    def _key(self, req: falcon.Request, token: str, directory: Directory) -> Principal:
        key = directory.keys.get(key_hash(token))
        if key is None:
            raise unauthorized("the API key is not known (or its ApiKey resource was removed)")
        if key.expires_at is not None and key.expires_at <= self.clock():
            raise unauthorized(f"the API key {key.namespace}/{key.name} expired at {iso(key.expires_at)}")
        self._note_use(req, key.uid, f"{key.namespace}/{key.name}")
        return Principal(f"apikey:{key.namespace}/{key.name}", key.role, "key", key.scopes)

    def _note_use(self, req: falcon.Request, uid: str, name: str) -> None:
        """Record a key's use in its status and the audit log, at most once a minute per key."""
        mono = time.monotonic()
        with self._lock:
            if mono - self._key_used.get(uid, -KEY_USE_EVERY) < KEY_USE_EVERY:
                return
            self._key_used[uid] = mono
        rec = self.store.resources.get_uid(uid)
        if rec is not None:
            self.store.resources.set_status(uid, {**rec.status, "lastUsedAt": iso(self.clock())})
        self.audit.record(req, f"apikey:{name}", "key.used", f"{req.method} {req.path}")


def sees_private(req: falcon.Request) -> bool:
    """Private parts of a resource (a push monitor's token) are for editors and admins only."""
    p: Principal = getattr(req.context, "principal", ANONYMOUS)
    return p.via != "anonymous" and p.has_role("editor")


def unauthorized(description: str) -> falcon.HTTPUnauthorized:
    return falcon.HTTPUnauthorized(title="Authentication required", description=description,
                                   challenges=['Bearer realm="kubekuma"'])  # fmt: skip


READ_ONLY = "readOnly: true in KubeKumaSettings default: changes go through Git, not the API"


class AccessMiddleware:
    def __init__(self, access: Access) -> None:
        self.access = access

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: object,
                         params: dict[str, str]) -> None:  # fmt: skip
        if resource is None:  # no route: the 404 sink answers
            return
        need = requirement(req.method, req.uri_template or req.path, params)
        directory = self.access.directory.get()
        req.context.directory = directory
        if need is None:
            # Public routes still learn who is asking (the login flow and private parts use it),
            # but a bad key on a public route is not an error.
            try:
                req.context.principal = self.access.authenticate(req, directory)
            except falcon.HTTPUnauthorized:
                req.context.principal = ANONYMOUS
            return
        principal = self.access.authenticate(req, directory)
        auth = directory.settings.auth
        if principal.anonymous:
            metrics = req.uri_template == "/metrics" and auth.anonymousMetrics
            read = (
                auth.anonymousRead and need.verb == "read" and need.role == "viewer" and need.area != "self"
            )
            if metrics or read:
                principal = ANONYMOUS_VIEWER
            else:
                raise unauthorized("log in (POST /api/v1/auth/login) or send Authorization: Bearer <API key>")
        req.context.principal = principal
        if not principal.allows(need):
            if not principal.has_role(need.role):
                why = f"needs the role {need.role}; {principal.name} has {principal.role}"
            else:
                why = f"the API key lacks the scope {need.scope}"
            raise falcon.HTTPForbidden(title="Forbidden", description=why)
        if need.verb != "write":
            return
        if principal.via == "session":
            sent = req.get_header(CSRF_HEADER) or ""
            view = self.access.store.sessions.get(principal.session_hash or "")
            if not sent or view is None or not same(digest(sent), view.csrf_hash):
                raise falcon.HTTPForbidden(
                    title="CSRF token missing or wrong",
                    description=f"send the session's token in {CSRF_HEADER}",
                )
        if directory.settings.readOnly and need.area != "self":
            raise falcon.HTTPForbidden(title="Read-only", description=READ_ONLY)
