"""The dashboard's one stylesheet and one script, and the light/dark switch that works without them.

Assets are read once at import and served from memory under `/assets/{name}`. Pages link
them as `/assets/dashboard.css?v=<hash of the content>`, so a browser may keep them for a
year (`immutable`) and a new release is fetched at once; a request without the current
hash gets a short cache and an ETag. The assets are public: the login page uses them too.

`/theme?set=dark&next=/monitors` stores the choice in a cookie and goes back: the server
renders `<html data-theme=...>`, so the toggle needs no script.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from urllib.parse import parse_qs

import falcon

from app.http.dashboard.openapi import TAGS, error, path, query

THEMES = ("auto", "light", "dark")
THEME_COOKIE = "kk_theme"
YEAR = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    version: str


def _load(name: str, content_type: str) -> Asset:
    body = resources.files("app.http").joinpath("static", name).read_bytes()
    return Asset(body, content_type, hashlib.sha256(body).hexdigest()[:12])


ASSETS: dict[str, Asset] = {
    "dashboard.css": _load("dashboard.css", "text/css; charset=utf-8"),
    "dashboard.js": _load("dashboard.js", "text/javascript; charset=utf-8"),
}


def url(name: str) -> str:
    """The versioned URL of an asset, for templates."""
    return f"/assets/{name}?v={ASSETS[name].version}"


def theme(req: falcon.Request) -> str:
    chosen = req.cookies.get(THEME_COOKIE, "auto")
    return chosen if chosen in THEMES else "auto"


def local_path(target: str | None) -> str:
    """Only a path on this site (never `//host` or a scheme), else the overview: no open redirect.
    Control characters are refused too: a browser drops tabs and newlines from a URL, so
    `/<tab>/evil.example` would lead to `//evil.example`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    return target[:2000]


class AssetFile:
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        asset = ASSETS.get(name)
        if asset is None:
            raise falcon.HTTPNotFound(title="Not found", description=f"no asset {name[:100]}")
        resp.etag = asset.version
        if req.get_param("v") == asset.version:
            resp.cache_control = [f"public, max-age={YEAR}, immutable"]
        else:
            resp.cache_control = ["public, max-age=300"]
        if asset.version in [str(tag) for tag in req.if_none_match or []]:
            resp.status = falcon.HTTP_304
            return
        resp.content_type = asset.content_type
        resp.data = asset.body


class ThemeSwitch:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        # Read with blanks kept: `set=` names no theme and is refused like any other unknown one.
        chosen = parse_qs(req.query_string, keep_blank_values=True).get("set", ["auto"])[-1]
        if chosen not in THEMES:
            raise falcon.HTTPBadRequest(
                title="Invalid parameter", description=f"set: must be one of {', '.join(THEMES)}"
            )
        resp.set_cookie(THEME_COOKIE, chosen, path="/", max_age=YEAR, http_only=True, same_site="Lax",
                        secure=req.scheme == "https")  # fmt: skip
        raise falcon.HTTPSeeOther(local_path(req.get_param("next")))


_TEXT = {"schema": {"type": "string"}}
OPENAPI = {
    "/assets/{name}": {"get": {
        "summary": "the dashboard's stylesheet or script (long-cached with ?v=<version>)", "tags": TAGS,
        "parameters": [path("name", "dashboard.css or dashboard.js"), query("v", "the version in its URL")],
        "responses": {
            "200": {"description": "the file", "content": {"text/css": _TEXT, "text/javascript": _TEXT}},
            "304": {"description": "not modified (If-None-Match matched the ETag)"},
            "404": error("no such asset"),
        },
    }},
    "/theme": {"get": {
        "summary": "choose the dashboard's theme (a cookie) and go back", "tags": TAGS,
        "parameters": [query("set", "the theme (default auto)", {"type": "string", "enum": list(THEMES)}),
                       query("next", "a path on this site to go back to")],
        "responses": {"303": {"description": "back to `next` or the overview"},
                      "400": error("invalid parameter")},
    }},
}  # fmt: skip


def register(app: falcon.App) -> None:
    app.add_route("/assets/{name}", AssetFile())
    app.add_route("/theme", ThemeSwitch())
