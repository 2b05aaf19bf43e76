"""Single sign-on with OpenID Connect: authorization code flow with PKCE, state and nonce (authlib),
ID tokens checked against the issuer's JWKS (joserfc, authlib's JOSE library) and group claims
mapped to roles by `KubeKumaSettings.spec.auth.oidc.roleMapping`.

The login sends the browser to the issuer with a fresh state, nonce and PKCE verifier; the state
is also set in a short-lived cookie, so a callback is accepted only once, only from the browser
that started it, and only within ten minutes. The ID token must be signed by a key in the
issuer's JWKS (fetched again once when a token names an unknown key: rotation), be issued by
the configured issuer for this client, be unexpired and carry the nonce. A user whose groups
map to no role is refused. The session remembers the OIDC settings it was made under; changing
them ends every OIDC session.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import falcon
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from app.http.access.directory import User
from app.http.access.hashing import digest
from app.http.access.login import secure
from app.http.access.middleware import Access
from app.http.access.principal import RANK
from app.http.access.sessions import COOKIE, CSRF_COOKIE
from app.resources.kinds import OidcSettings
from app.resources.loader import SecretError

STATE_COOKIE = "kk_oidc_state"
PENDING_FOR = 600.0
CALLBACK = "/api/v1/auth/oidc/callback"


@dataclass(frozen=True, slots=True)
class Pending:
    nonce: str
    verifier: str
    redirect_uri: str
    started: float


class Issuer:
    """Discovery and JWKS of one issuer, cached; the JWKS is fetched again when a key is unknown."""

    def __init__(self, issuer: str, http: requests.Session) -> None:
        self.issuer, self.http = issuer.rstrip("/"), http
        self._meta: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    def metadata(self) -> dict[str, Any]:
        if self._meta is None:
            r = self.http.get(self.issuer + "/.well-known/openid-configuration", timeout=10)
            r.raise_for_status()
            self._meta = r.json()
        return self._meta

    def keys(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is None or refresh:
                r = self.http.get(self.metadata()["jwks_uri"], timeout=10)
                r.raise_for_status()
                self._keys = KeySet.import_key_set(r.json())
            return self._keys

    def verify(self, id_token: str, client_id: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, or JoseError."""
        try:
            token = jwt.decode(id_token, self.keys())
        except InvalidKeyIdError:  # the issuer rotated its keys since we last looked
            token = jwt.decode(id_token, self.keys(refresh=True))
        claims: dict[str, Any] = dict(token.claims)
        jwt.JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": self.metadata().get("issuer", self.issuer)},
            aud={"essential": True, "value": client_id},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(claims)
        return claims


def role_for(claims: dict[str, Any], settings: OidcSettings) -> str | None:
    """The highest role any of the user's groups maps to; None when none does."""
    groups = claims.get(settings.groupsClaim) or []
    if isinstance(groups, str):
        groups = [groups]
    roles = [settings.roleMapping[g] for g in groups if isinstance(g, str) and g in settings.roleMapping]
    return max(roles, key=lambda r: RANK[r]) if roles else None


class OidcLogin:
    """GET /api/v1/auth/oidc/login (to the issuer) and GET /api/v1/auth/oidc/callback (back)."""

    def __init__(self, access: Access, http: requests.Session | None = None) -> None:
        self.access = access
        self.http = http or requests.Session()
        self._issuers: dict[str, Issuer] = {}
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()

    def _settings(self) -> OidcSettings:
        oidc = self.access.directory.get().settings.auth.oidc
        if oidc is None:
            raise falcon.HTTPNotFound(title="Not found", description="OIDC is not configured")
        return oidc

    def _issuer(self, oidc: OidcSettings) -> Issuer:
        with self._lock:
            if oidc.issuer not in self._issuers:
                self._issuers[oidc.issuer] = Issuer(oidc.issuer, self.http)
            return self._issuers[oidc.issuer]

    def _client(self, oidc: OidcSettings, redirect_uri: str) -> OAuth2Session:
        try:
            secret = self.access.options.secrets.require(oidc.clientSecretRef, "default")
        except SecretError as exc:
            raise falcon.HTTPServiceUnavailable(title="OIDC misconfigured", description=str(exc)) from None
        return OAuth2Session(oidc.clientId, secret, scope="openid profile email", redirect_uri=redirect_uri,
                             code_challenge_method="S256")  # fmt: skip

    def _redirect_uri(self, req: falcon.Request) -> str:
        public_url = self.access.directory.get().settings.publicUrl
        return (public_url or req.prefix).rstrip("/") + CALLBACK

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        oidc = self._settings()
        meta = self._issuer(oidc).metadata()
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        redirect_uri = self._redirect_uri(req)
        client = self._client(oidc, redirect_uri)
        url, _ = client.create_authorization_url(meta["authorization_endpoint"], state=state, nonce=nonce,
                                                 code_verifier=verifier)  # fmt: skip
        now = time.monotonic()
        with self._lock:
            self._pending = {s: p for s, p in self._pending.items() if now - p.started < PENDING_FOR}
            self._pending[state] = Pending(nonce, verifier, redirect_uri, now)
        resp.set_cookie(STATE_COOKIE, state, path=CALLBACK, http_only=True, secure=secure(req, self.access),
                        same_site="Lax", max_age=int(PENDING_FOR))  # fmt: skip
        raise falcon.HTTPFound(url)

    def _refuse(
        self, req: falcon.Request, why: str, status: Callable[..., falcon.HTTPError] = falcon.HTTPBadRequest
    ) -> None:
        self.access.audit.record(req, "oidc", "login.failed", None, reason=why)
        raise status(title="Single sign-on failed", description=why)

    def on_get_callback(self, req: falcon.Request, resp: falcon.Response) -> None:
        oidc = self._settings()
        state, code = req.get_param("state") or "", req.get_param("code") or ""
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None or time.monotonic() - pending.started > PENDING_FOR:
            self._refuse(req, "unknown, used or expired state; start the login again")
        assert pending is not None
        if req.cookies.get(STATE_COOKIE) != state:
            self._refuse(req, "the state belongs to another browser")
        if req.get_param("error") or not code:
            self._refuse(req, f"the issuer answered {req.get_param('error') or 'no code'}")
        issuer = self._issuer(oidc)
        try:
            with self._client(oidc, pending.redirect_uri) as client:
                token = client.fetch_token(
                    issuer.metadata()["token_endpoint"], code=code, code_verifier=pending.verifier
                )
            claims = issuer.verify(str(token.get("id_token") or ""), oidc.clientId, pending.nonce)
        except (JoseError, ValueError) as exc:
            self._refuse(
                req, f"the ID token is not valid: {type(exc).__name__}: {exc}", falcon.HTTPUnauthorized
            )
            raise
        except Exception as exc:  # the token endpoint refused, or is away
            self._refuse(req, f"the code exchange failed: {type(exc).__name__}", falcon.HTTPBadGateway)
            raise
        role = role_for(claims, oidc)
        name = f"oidc:{claims.get('preferred_username') or claims.get('email') or claims['sub']}"
        if role is None:
            self._refuse(req, f"{name} is in no group that maps to a role", falcon.HTTPForbidden)
        assert role is not None
        user = User(name, role, "", None, self.access.directory.get().oidc_fingerprint, "oidc")
        old = req.cookies.get(COOKIE)
        if old:
            self.access.sessions.end(digest(old))
        new = self.access.sessions.create(user, req.remote_addr)
        on_https = secure(req, self.access)
        resp.set_cookie(COOKIE, new.cookie, path="/", http_only=True, secure=on_https, same_site="Lax")
        resp.set_cookie(CSRF_COOKIE, new.csrf, path="/", http_only=False, secure=on_https, same_site="Lax")
        resp.unset_cookie(STATE_COOKIE, path=CALLBACK)
        self.access.audit.record(req, name, "login", None, method="oidc", role=role)
        raise falcon.HTTPSeeOther("/")


__all__ = ["OidcLogin", "role_for"]
