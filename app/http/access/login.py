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
            if wants_html(req):
                resp.status = falcon.HTTP_429
                resp.set_header("Retry-After", str(wait))
                login_page(req, resp, self.access, error=f"Too many failed logins: try again in {wait} s.",
                           username=username)  # fmt: skip
                return
            raise falcon.HTTPTooManyRequests(
                title="Too many failed logins",
                description=f"too many failed logins for this user or address; try again in {wait} s",
                retry_after=wait,
            )
        user = self.access.directory.get().users.get(username)
        ok = verify_password(user.password_hash if user else None, password)
        if ok and user is not None and user.totp_secret and not code:
            if wants_html(req):
                resp.status = falcon.HTTP_401
                login_page(req, resp, self.access, step="totp", username=username, password=password)
                return
            raise falcon.HTTPUnauthorized(
                title="TOTP code required", description="send the code from your authenticator in `totp`"
            )
        if not ok or user is None or not check_second_factor(self.access, user, code):
            self.access.throttle.failed(username, address)
            self.access.audit.record(req, username[:200], "login.failed", None, reason="wrong credentials")
            if wants_html(req):
                resp.status = falcon.HTTP_401
                login_page(
                    req, resp, self.access, error="Wrong username, password or code.", username=username
                )
                return
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


LOGIN_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class LoginPage:
    def __init__(self, access: Access) -> None:
        self.access = access

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        login_page(req, resp, self.access)


def login_page(req: falcon.Request, resp: falcon.Response, access: Access, error: str = "", step: str = "",
               username: str = "", password: str = "") -> None:  # fmt: skip
    """The login form in the dashboard's frame: the password step, or the code step of a TOTP user.

    The code step carries the username and password the browser just posted in hidden fields,
    so the second post is a whole login again and the server keeps no half-logged-in state."""
    from app.http.dashboard import assets, templates  # the frame's templates; loaded on first use

    directory = access.directory.get()
    initial = access.options.initial_admin
    resp.content_type = falcon.MEDIA_HTML
    # The default policy's `form-action 'none'` would stop the browser from sending the form.
    resp.set_header("Content-Security-Policy", LOGIN_CSP)
    resp.set_header("Cache-Control", "no-store")  # the code step holds the password just typed
    resp.text = templates.get_template("dashboard/login.html").render(
        theme=assets.theme(req), error=error, step=step, username=username, password=password,
        first_start=initial is not None and initial.name in directory.users, oidc=directory.oidc_configured,
    )  # fmt: skip


def wants_html(req: falcon.Request) -> bool:
    """A browser's own form post (no script): answer with the page, not JSON."""
    form = (req.content_type or "").startswith("application/x-www-form-urlencoded")
    return form and req.client_prefers(["application/json", "text/html"]) == "text/html"
