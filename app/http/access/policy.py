"""The route table of access: which routes are public, and what every other route needs.

One pure function over (method, route template) so the middleware, the OpenAPI document
and the test that walks every route agree. Closed by default: a route not listed as
public needs at least `viewer`; a mutation `editor`; users, keys, settings and the audit
log `admin`.
"""

from __future__ import annotations

from app.http.access.principal import Requirement
from app.resources.registry import KINDS

# Route templates anyone may call. Status pages (HTML, JSON, feed), badges (the badge itself
# refuses monitors that are on no public status page), push URLs, probes, the login flow.
PUBLIC: frozenset[str] = frozenset({
    "/healthz", "/readyz", "/api/v1/openapi.json",
    "/status/{slug}", "/status/{slug}/feed.atom", "/api/v1/status/{slug}",
    "/badge/{namespace}/{name}/status.svg", "/badge/{namespace}/{name}/uptime.svg",
    "/badge/{namespace}/{name}/latency.svg", "/badge/{namespace}/{name}/cert.svg",
    "/api/push/{token}", "/api/push/{token}/{action}",
    "/login", "/api/v1/auth/login", "/api/v1/auth/oidc/login", "/api/v1/auth/oidc/callback",
    "/assets/{name}", "/theme",  # the dashboard's stylesheet and script, and the light/dark switch
})  # fmt: skip

# Routes any logged-in principal may use whatever its role: who am I, log out, own TOTP.
SELF: frozenset[str] = frozenset({"/api/v1/auth/me", "/api/v1/auth/logout", "/api/v1/auth/totp",
                                  "/api/v1/auth/totp/confirm"})  # fmt: skip

# Every name a path may use for the kinds only admins change (kind, plural, short names).
ADMIN_KINDS = frozenset(
    alias.lower()
    for info in KINDS.values()
    if info.kind in ("LocalUser", "ApiKey", "KubeKumaSettings")
    for alias in (info.kind, info.plural, *info.short_names)
)

SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def area_of(template: str) -> str:
    """The scope area of a route: the part of the path an API key's scope names."""
    parts = [p for p in template.split("/") if p and not p.startswith("{")]
    if template == "/metrics":
        return "metrics"
    if len(parts) >= 3 and parts[:2] == ["api", "v1"]:
        head = parts[2]
        return {
            "uptime": "monitors", "transitions": "incidents", "deliveries": "incidents",
            "export": "resources", "providers": "notifications",
        }.get(head, head)  # fmt: skip
    return "dashboard"


def requirement(method: str, template: str, params: dict[str, str] | None = None) -> Requirement | None:
    """None for a public route; otherwise the role and scope the request needs."""
    if template in PUBLIC:
        return None
    area = area_of(template)
    write = method not in SAFE
    if template in SELF:
        return Requirement("viewer", "self", "write" if write else "read")
    role = "editor" if write else "viewer"
    kind = (params or {}).get("kind", "").lower()
    if area == "audit" or template == "/audit" or (area == "resources" and write and kind in ADMIN_KINDS):
        role = "admin"
    return Requirement(role, area, "write" if write else "read")
