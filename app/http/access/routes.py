"""The routes of the access package, registered on the app in one call."""

from __future__ import annotations

import falcon

from app.http.access.audit import AuditList
from app.http.access.login import Login, LoginPage, Logout, Me
from app.http.access.middleware import Access
from app.http.access.oidc import OidcLogin
from app.http.access.totp import TotpEnrolment
from app.resources.writer import ResourceWriter


def register(app: falcon.App, access: Access, writer: ResourceWriter | None) -> None:
    app.add_route("/login", LoginPage(access))
    app.add_route("/api/v1/auth/login", Login(access))
    app.add_route("/api/v1/auth/logout", Logout(access))
    app.add_route("/api/v1/auth/me", Me(access))
    totp = TotpEnrolment(access, writer)
    app.add_route("/api/v1/auth/totp", totp)
    app.add_route("/api/v1/auth/totp/confirm", totp, suffix="confirm")
    app.add_route("/api/v1/audit", AuditList(access.store))
    oidc = OidcLogin(access)
    app.add_route("/api/v1/auth/oidc/login", oidc)
    app.add_route("/api/v1/auth/oidc/callback", oidc, suffix="callback")
