"""The login flow for local users: log in, log out, who am I, and the HTML login form.

A login answers 429 with Retry-After while throttled, checks the argon2id hash (and a TOTP
or single-use recovery code when the user has TOTP), ends the session the browser came
with and starts a new one (rotation), and sets the cookie HttpOnly, SameSite=Lax, and
Secure behind https. The answer carries the CSRF token that mutations must echo.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import falcon
import pyotp

from app.http.access.directory import User
from app.http.access.hashing import digest, verify_password
from app.http.access.middleware import Access
from app.http.access.principal import Principal
from app.http.access.sessions import COOKIE, CSRF_COOKIE

MAX_BODY = 16 * 1024


def read_body(req: falcon.Request) -> dict[str, Any]:
    """A JSON object or an HTML form, at most 16 KiB."""
    raw = req.bounded_stream.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise falcon.HTTPContentTooLarge(title="Too large", description="the body is over 16 KiB")
    if (req.content_type or "").startswith("application/x-www-form-urlencoded"):
        return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise falcon.HTTPBadRequest(title="Invalid body", description="expected a JSON object") from None
    if not isinstance(body, dict):
        raise falcon.HTTPBadRequest(title="Invalid body", description="expected a JSON object")
    return body


def secure(req: falcon.Request, access: Access) -> bool:
    public_url = access.directory.get().settings.publicUrl or ""
    return req.scheme == "https" or public_url.startswith("https://")


def set_session_cookies(req: falcon.Request, resp: falcon.Response, access: Access, cookie: str,
                        csrf: str) -> None:  # fmt: skip
    on_https = secure(req, access)
    resp.set_cookie(COOKIE, cookie, path="/", http_only=True, secure=on_https, same_site="Lax")
    # Readable by the dashboard's script, which sends it back in X-CSRF-Token.
    resp.set_cookie(CSRF_COOKIE, csrf, path="/", http_only=False, secure=on_https, same_site="Lax")


def check_second_factor(access: Access, user: User, code: str) -> bool:
    if not user.totp_secret:
        return True
    code = code.replace(" ", "")
    if code.isdigit() and pyotp.TOTP(user.totp_secret).verify(code, for_time=access.clock(), valid_window=1):
        return True
    return bool(code) and access.store.recovery_codes.use(user.name, digest(code.upper()), access.clock())


class Login:
    def __init__(self, access: Access) -> None:
        self.access = access

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req)
        form = (req.content_type or "").startswith("application/x-www-form-urlencoded")
        username, password = str(body.get("username") or ""), str(body.get("password") or "")
        code = str(body.get("totp") or body.get("code") or "")
        username = username.strip()
        if not username or not password:
            raise falcon.HTTPBadRequest(
                title="Invalid body", description="username and password are required"
            )
        if len(username) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in username):
            raise falcon.HTTPBadRequest(
                title="Invalid body", description="username: at most 200 characters, none a control character"
            )
        address = req.remote_addr
        wait = self.access.throttle.retry_after(username, address)
        if wait is not None:
            self.access.audit.record(req, username[:200], "login.failed", None, reason="throttled")
            raise falcon.HTTPTooManyRequests(
                title="Too many failed logins",
                description=f"too many failed logins for this user or address; try again in {wait} s",
                retry_after=wait,
            )
        user = self.access.directory.get().users.get(username)
        ok = verify_password(user.password_hash if user else None, password)
        if ok and user is not None and user.totp_secret and not code:
            raise falcon.HTTPUnauthorized(
                title="TOTP code required", description="send the code from your authenticator in `totp`"
            )
        if not ok or user is None or not check_second_factor(self.access, user, code):
            self.access.throttle.failed(username, address)
            self.access.audit.record(req, username[:200], "login.failed", None, reason="wrong credentials")
            raise falcon.HTTPUnauthorized(
                title="Login failed", description="wrong username, password or code"
            )
        self.access.throttle.succeeded(username)
        old = req.cookies.get(COOKIE)
        if old:
            self.access.sessions.end(digest(old))
        new = self.access.sessions.create(user, address)
        set_session_cookies(req, resp, self.access, new.cookie, new.csrf)
        self.access.audit.record(req, user.name, "login", None, method=user.source)
        if form:
            raise falcon.HTTPSeeOther("/")
        resp.media = {"username": user.name, "role": user.role, "csrfToken": new.csrf}


class Logout:
    def __init__(self, access: Access) -> None:
        self.access = access

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        p: Principal = req.context.principal
        if p.session_hash:
            self.access.sessions.end(p.session_hash)
        resp.unset_cookie(COOKIE, path="/")
        resp.unset_cookie(CSRF_COOKIE, path="/")
        self.access.audit.record(req, p.name, "logout")
        resp.status = falcon.HTTP_204


class Me:
    def __init__(self, access: Access) -> None:
        self.access = access

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        p: Principal = req.context.principal
        settings = req.context.directory.settings
        resp.media = {"name": p.name, "role": p.role, "via": p.via, "scopes": list(p.scopes),
                      "readOnly": settings.readOnly}  # fmt: skip


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>KubeKuma login</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 22rem; margin: 4rem auto">
<h1>KubeKuma</h1>{note}
<form method="post" action="/api/v1/auth/login">
<p><label>Username<br><input name="username" autocomplete="username" required></label></p>
<p><label>Password<br>
<input name="password" type="password" autocomplete="current-password" required></label></p>
<p><label>TOTP or recovery code (if enrolled)<br><input name="totp" autocomplete="one-time-code"></label></p>
<p><button type="submit">Log in</button></p></form>{oidc}</body></html>"""


LOGIN_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class LoginPage:
    def __init__(self, access: Access) -> None:
        self.access = access

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        directory = self.access.directory.get()
        note = ""
        initial = self.access.options.initial_admin
        if initial is not None and initial.name in directory.users:
            note = "<p>First start: log in as <b>admin</b> with the password in the initial admin file.</p>"
        oidc = ""
        if directory.oidc_configured:
            oidc = '<p><a href="/api/v1/auth/oidc/login">Log in with single sign-on</a></p>'
        resp.content_type = falcon.MEDIA_HTML
        # The default policy's `form-action 'none'` would stop the browser from sending the form.
        resp.set_header("Content-Security-Policy", LOGIN_CSP)
        resp.text = PAGE.format(note=note, oidc=oidc)
