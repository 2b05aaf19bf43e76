"""Closed by default: every route is public-listed, or refuses anonymous callers with 401 JSON."""

from __future__ import annotations

import re

from falcon.testing import TestClient

from app.http.access.middleware import AccessOptions
from app.http.access.policy import PUBLIC
from app.http.app import create_app
from app.http.push import PushEndpoint
from tests.http.conftest import Site
from tests.http.test_openapi import routes


def test_every_route_is_public_or_refuses_anonymous_requests(lite: Site) -> None:
    push = PushEndpoint(
        lite.store,
        lite.catalog,
        None,
        on_transition=lambda tid: None,
        clock=lambda: lite.now,
        in_maintenance=lambda entry, now: False,
    )
    app = create_app(lite.store, lite.catalog, push=push, access=AccessOptions(secrets=lite.secrets))
    client = TestClient(app)
    walked = routes(app)
    assert len(walked) > 40
    protected = 0
    for template, method in sorted(walked):
        if template in PUBLIC:
            continue
        path = re.sub(r"\{[^}]+\}", "x", template)
        r = client.simulate_request(method.upper(), path, json={} if method in ("post", "put") else None)
        assert r.status_code == 401, f"{method.upper()} {template} answered {r.status_code} to nobody"
        assert r.json["error"]["status"] == 401 and r.json["error"]["title"], template
        assert r.headers["www-authenticate"].startswith("Bearer"), template
        protected += 1
    assert protected >= 30


def test_public_routes_answer_without_credentials(lite: Site) -> None:
    client = lite.anonymous
    assert client is not None
    for path in (
        "/healthz",
        "/status/shop",
        "/api/v1/status/shop",
        "/status/shop/feed.atom",
        "/badge/shop/checkout-api/status.svg",
        "/api/v1/openapi.json",
        "/login",
    ):
        assert client.simulate_get(path).status_code == 200, path
    # What is not public stays closed, even the dashboard itself.
    for path in ("/", "/api/v1/monitors", "/api/v1/resources", "/metrics", "/probe", "/api/v1/incidents"):
        assert client.simulate_get(path).status_code == 401, path
