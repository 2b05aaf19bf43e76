"""Badges and pages rendered in headless Chromium with injection payloads in every text: no script runs.

Each payload tries to set `window.__pwned`, open a dialog or fetch a marker URL; the test reads
the first, listens for the second and watches the server for the third.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import waitress

from app.catalog import Catalog
from app.http.access.middleware import AccessOptions
from app.http.app import create_app
from app.http.cache import RenderCache
from app.http.public import PublicOptions
from app.http.security import SERVER_LIMITS
from app.store import Store
from tests.access import MutableSecrets, bearer, grant_key
from tests.http.conftest import seed_folder

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium)"),
]

PAYLOADS = [
    "<script>window.__pwned=1;fetch('/pwned')</script>",
    '"><img src=x onerror="window.__pwned=1;fetch(\'/pwned\')">',
    "' onload='window.__pwned=1' x='",
    '" onload="window.__pwned=1" x="',
    "</title><script>window.__pwned=1</script>",
    "<svg onload=window.__pwned=1>",
    "javascript:window.__pwned=1",
    "]]><script>window.__pwned=1</script>",
]


def _yaml(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def manifests() -> str:
    evil = " ".join(PAYLOADS)
    return f"""\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: web, namespace: shop, labels: {{public: "true"}}}}
spec: {{type: http, description: {_yaml(evil)}, http: {{url: "https://web.internal/?q=<script>x</script>"}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: StatusPage
metadata: {{name: shop, namespace: shop}}
spec:
  slug: shop
  title: {_yaml(evil)}
  description: {_yaml(evil)}
  groups: [{{name: {_yaml(evil)}, monitors: [{{name: web}}]}}]
---
apiVersion: kubekuma.io/v1alpha1
kind: MaintenanceWindow
metadata: {{name: mw, namespace: shop}}
spec:
  title: {_yaml(evil)}
  description: {_yaml(evil)}
  monitors: [{{name: web}}]
  start: "2999-01-01T00:00:00Z"
  duration: 1h
"""


class Site:
    def __init__(self, base: str, hits: list[str], key: str = "") -> None:
        self.base, self.hits, self.key = base, hits, key


@pytest.fixture
def site(sqlite_url: str, tmp_path: Path) -> Iterator[Site]:
    store = Store(sqlite_url)
    seed_folder(store, tmp_path / "m", manifests())
    secrets = MutableSecrets()
    app = create_app(store, Catalog(store), public=PublicOptions(cache=RenderCache(ttl=0)),
                     access=AccessOptions(secrets=secrets))  # fmt: skip
    key = grant_key(store, secrets, "viewer")  # the dashboard is for logged-in readers
    hits: list[str] = []

    def recording(environ, start_response):  # type: ignore[no-untyped-def]
        hits.append(environ.get("PATH_INFO", ""))
        return app(environ, start_response)

    server = waitress.create_server(recording, host="127.0.0.1", port=0, threads=4, **SERVER_LIMITS)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        yield Site(f"http://127.0.0.1:{server.effective_port}", hits, key)
    finally:
        server.close()
        store.close()


def _without_csp(route) -> None:  # type: ignore[no-untyped-def]
    """Escaping alone must hold: serve every response with its Content-Security-Policy removed."""
    response = route.fetch()
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
    route.fulfill(response=response, headers=headers)


@pytest.mark.parametrize("csp", [True, False], ids=["with-csp", "escaping-alone"])
def test_no_payload_runs_in_pages_or_badges(site: Site, csp: bool) -> None:
    from playwright.sync_api import sync_playwright

    urls = ["/", "/login", "/status/shop", "/status/shop/feed.atom", "/api/v1/status/shop"]
    for payload in PAYLOADS:
        for badge in ("status", "uptime", "latency", "cert"):
            urls.append(f"/badge/shop/web/{badge}.svg?label={quote(payload[:60])}")
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(extra_http_headers=bearer(site.key))
            if not csp:
                page.route("**/*", _without_csp)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for url in urls:
                response = page.goto(site.base + url, wait_until="load")
                assert response is not None and response.status == 200, url
                page.wait_for_timeout(50)
                assert page.evaluate("window.__pwned") is None, url
        finally:
            browser.close()
    assert dialogs == []
    assert "/pwned" not in site.hits
    assert any(h.startswith("/badge/") for h in site.hits)
