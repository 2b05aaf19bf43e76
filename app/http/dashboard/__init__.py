"""The dashboard: server-rendered pages for the people who run KubeKuma, on one frame.

Every page is HTML rendered here (Jinja2, autoescaped) and works without JavaScript;
`/assets/dashboard.js` only enhances (live counts, chart tooltips, buttons that post to the
API with the session's CSRF token). The access middleware has already decided who may see
a page (`viewer` and up, `/audit` admins); `render` tells the template who is asking and
whether they may change things, so mutation controls are left out by the server, not CSS.

How to add a page
-----------------
1. Write `app/http/dashboard/<page>.py` with a resource class and
   `register(app: falcon.App, deps: Deps) -> None` that calls `app.add_route(...)`.
   Read through `deps.store`'s repositories and `deps.catalog`; never build SQL here.
2. Its responder ends with `render(req, resp, "dashboard/<page>.html", active="<key>", **ctx)`.
3. Write `app/http/templates/dashboard/<page>.html`: `{% extends "dashboard/base.html" %}`
   with blocks `title` and `content`. Wrap every mutation in `{% if can_mutate %}`; a form
   posting to the API is `<form method="post" action="/api/v1/..." data-api>` (the script
   adds the CSRF header and reloads; `data-confirm="..."` asks first, `data-json` sends the
   form's non-empty fields as a JSON body, `data-next="/path"` goes there instead of
   reloading; a `<span class="api-error" role="alert">` inside shows the API's error).
4. Add the module to the list in `_pages()` below (its entry in `NAV` already exists), and
   document its routes in the module's `OPENAPI` (see `app/http/dashboard/openapi.py`).
5. Add it to `tests/dashboard/` (a falcon.testing test and a browser test with
   `axe_check` and `screenshot`) and to the URL list of `bench/dashboard.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any

import falcon
from jinja2 import Environment, PackageLoader, select_autoescape

from app.catalog import Catalog
from app.http.access.principal import ANONYMOUS, Principal
from app.http.dashboard import assets, fmt
from app.model import utc_now
from app.store import Store

# Scripts and styles only from our own origin; forms and fetches only to it.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str
    label: str
    href: str
    role: str = "viewer"  # the least role that sees the entry


# The one list of pages, in the order of the nav. A page module registers the route `href`.
NAV: list[NavItem] = [
    NavItem("overview", "Overview", "/"),
    NavItem("monitors", "Monitors", "/monitors"),
    NavItem("incidents", "Incidents", "/incidents"),
    NavItem("deliveries", "Deliveries", "/deliveries"),
    NavItem("silences", "Silences", "/silences"),
    NavItem("maintenance", "Maintenance", "/maintenance"),
    NavItem("status-pages", "Status pages", "/status-pages"),
    NavItem("providers", "Providers", "/providers"),
    NavItem("policies", "Policies", "/policies"),
    NavItem("settings", "Settings", "/settings"),
    NavItem("api-keys", "API keys", "/api-keys"),
    NavItem("audit", "Audit", "/audit", role="admin"),
]


@dataclass(frozen=True, slots=True)
class Deps:
    """What every page reads: the store's repositories, the monitor catalog, the clock."""

    store: Store
    catalog: Catalog
    clock: Callable[[], datetime] = utc_now


templates = Environment(
    loader=PackageLoader("app.http", "templates"), autoescape=select_autoescape(default=True)
)
templates.globals["asset"] = assets.url
templates.filters.update(fmt.FILTERS)


def principal(req: falcon.Request) -> Principal:
    p: Principal = getattr(req.context, "principal", ANONYMOUS)
    return p


def read_only(req: falcon.Request) -> bool:
    directory = getattr(req.context, "directory", None)
    return bool(directory is not None and directory.settings.readOnly)


def can_mutate(req: falcon.Request) -> bool:
    """Editors and admins may change things, unless KubeKuma runs read-only (changes through Git)."""
    p = principal(req)
    return p.via != "anonymous" and p.has_role("editor") and not read_only(req)


def render(req: falcon.Request, resp: falcon.Response, template: str, **ctx: Any) -> None:
    """Render a dashboard page with the frame's context: who is asking, the nav, the theme."""
    p = principal(req)
    nav = [n for n in NAV if p.has_role(n.role)]
    resp.content_type = falcon.MEDIA_HTML
    resp.set_header("Content-Security-Policy", CSP)
    resp.set_header("Cache-Control", "no-store")
    resp.text = templates.get_template(template).render(
        user={"name": p.name, "role": p.role or "viewer", "via": p.via},
        can_mutate=can_mutate(req),
        read_only=read_only(req),
        nav=nav,
        active=ctx.pop("active", ""),
        theme=assets.theme(req),
        path=req.relative_uri,
        **ctx,
    )


def _pages() -> list[ModuleType]:
    # Imported here: page modules import this package for `render` and `Deps`.
    from app.http.dashboard import (
        apikeys,
        audit,
        deliveries,
        incidents,
        maintenance,
        monitor,
        monitors,
        overview,
        policies,
        providers,
        settings,
        silences,
        statuslist,
    )  # fmt: skip

    return [overview, monitors, monitor, incidents, deliveries, silences, maintenance, statuslist, providers,
            policies, settings, apikeys, audit]  # fmt: skip


def to_login(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPUnauthorized, params: Any) -> None:
    """A browser asking for a page without a session goes to the login form; the API and
    scripts keep their 401 JSON answer."""
    page = not req.path.startswith(("/api/", "/live/", "/metrics", "/probe"))
    if page and req.method == "GET" and "text/html" in (req.get_header("Accept") or ""):
        raise falcon.HTTPSeeOther("/login")
    raise ex


def register(app: falcon.App, deps: Deps) -> None:
    """Every dashboard route: the assets, the theme switch and each page module's routes."""
    assets.register(app)
    for page in _pages():
        page.register(app, deps)
    app.add_error_handler(falcon.HTTPUnauthorized, to_login)
