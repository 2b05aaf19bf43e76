"""Hostile requests to the public face: injection into badges, odd numbers and dates, headers, tokens."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from falcon.testing import TestClient

from app.catalog import Catalog
from app.controller.status import with_push_token
from app.http.app import create_app
from app.http.badges import render_badge
from app.http.cache import RenderCache
from app.http.public import PublicOptions
from app.http.security import HEADERS, redact_path
from app.store import Store
from tests.access import client_as, grant_key
from tests.http.conftest import MANIFESTS, Site, seed_folder

SVG = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    "label",
    [
        'x" onload="alert(1)',
        "x' onload='alert(1)",
        "</text><script>alert(1)</script>",
        "a\x00b\x01c\x1bd\x7f\x85e",
        "<![CDATA[x]]>&amp;",
    ],
    ids=["double-quote", "single-quote", "element", "control-chars", "cdata"],
)
def test_badge_labels_stay_text_in_valid_xml(lite: Site, label: str) -> None:
    r = lite.client.simulate_get("/badge/shop/search/status.svg", params={"label": label})
    assert r.status_code == 200
    svg = ET.fromstring(r.content)  # valid XML, or this raises
    assert set(svg.attrib) == {"xmlns", "width", "height", "role", "aria-label"} - {"xmlns"}
    assert not svg.findall(f".//{SVG}script") and "onload" not in svg.attrib
    title = svg.findtext(f"{SVG}title") or ""
    assert title.startswith(label.translate({c: None for c in (*range(32), *range(0x7F, 0xA0))}))


def test_badge_renderer_escapes_quotes_in_attributes() -> None:
    svg = render_badge('a"b', "c'd", "red")
    assert 'aria-label="a&quot;b: c&apos;d"' in svg
    assert ET.fromstring(svg).get("aria-label") == "a\"b: c'd"


@pytest.mark.parametrize(
    "path",
    ["/healthz", "/api/v1/monitors", "/status/shop", "/badge/shop/search/status.svg", "/api/v1/nope", "/x"],
)
def test_every_response_carries_the_security_headers(lite: Site, path: str) -> None:
    r = lite.client.simulate_get(path)
    for name, value in HEADERS.items():
        assert r.headers.get(name) == value, (path, name)
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none' forbids scripts


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/monitors/shop/search/heartbeats", "limit=２４"),
        ("/api/v1/monitors/shop/search/heartbeats", "limit=1_0"),
        ("/api/v1/monitors/shop/search/heartbeats", "limit= 7"),
        ("/api/v1/monitors/shop/search/heartbeats", "limit="),
        ("/api/v1/monitors/shop/search/heartbeats", "before=٣"),
        ("/api/v1/monitors/shop/search/heartbeats", "since="),
        ("/api/v1/monitors/shop/search/heartbeats", "since=２０２４-01-01T00:00:00Z"),
        ("/api/v1/monitors/shop/search/heartbeats", "since=2024-01-01"),
        ("/api/v1/incidents", "until=yesterday"),
        ("/api/v1/uptime/shop/search", "window=２４h"),
        ("/badge/shop/search/uptime.svg", "window=２４h"),
    ],
)
def test_numbers_and_times_take_ascii_digits_only(lite: Site, path: str, query: str) -> None:
    r = lite.client.simulate_get(path, query_string=query)
    assert r.status_code == 400, (query, r.text)
    assert r.json["error"]["status"] == 400


@pytest.mark.parametrize(
    "query",
    [
        "since=9999-12-31T23:59:59-05:00",
        "until=9999-12-31T23:59:59-05:00",
        "since=0001-01-01T00:00:00%2B05:00",
        "since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59.999999Z",
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/monitors/shop/search/heartbeats", "/api/v1/incidents"])
def test_times_near_the_datetime_limits_are_clamped_not_500(site: Site, path: str, query: str) -> None:
    r = site.client.simulate_get(path, query_string=query)
    assert r.status_code == 200, r.text


def test_resources_never_show_a_push_token_to_anonymous_readers(lite: Site) -> None:
    rec = lite.store.resources.get("Monitor", "shop", "search")
    assert rec is not None
    status = with_push_token(dict(rec.status), "Monitor", {"type": "push"})
    lite.store.resources.set_status(rec.uid, status)
    token = status["pushToken"]
    # Anonymous readers get nothing at all now (tests/http/access); viewers get no token.
    viewer = client_as(lite.app, grant_key(lite.store, lite.secrets, "viewer", "reader"))
    for path in ("/api/v1/resources", "/api/v1/resources/monitors", "/api/v1/monitors", "/"):
        r = viewer.simulate_get(path)
        assert r.status_code == 200 and token not in r.text, path
        assert lite.anonymous is not None and lite.anonymous.simulate_get(path).status_code == 401


def test_logs_never_hold_a_push_token() -> None:
    assert redact_path("/api/push/tok3n-value/fail") == "/api/push/***/fail"
    assert redact_path("/api/push/tok3n-value") == "/api/push/***"
    assert redact_path("/api/v1/monitors") == "/api/v1/monitors"


def test_the_feed_never_takes_links_from_the_host_header(lite: Site) -> None:
    r = lite.client.simulate_get("/status/shop/feed.atom", headers={"Host": "evil.example"})
    assert r.status_code == 200 and "evil.example" not in r.text
    again = lite.client.simulate_get("/status/shop/feed.atom")  # what the cache now holds for everyone
    assert "evil.example" not in again.text
    assert 'href="/status/shop"' in again.text


def test_feed_links_come_from_the_configured_base_url(store: Store, tmp_path: Path) -> None:
    seed_folder(
        store,
        tmp_path / "m",
        MANIFESTS.format(active_start="2024-01-01T00:00:00Z", upcoming_start="2024-01-02T00:00:00Z"),
    )
    app = create_app(
        store,
        Catalog(store),
        public=PublicOptions(cache=RenderCache(ttl=0), base_url="https://status.example.com"),
    )
    r = TestClient(app).simulate_get("/status/shop/feed.atom", headers={"Host": "evil.example"})
    assert 'href="https://status.example.com/status/shop"' in r.text and "evil.example" not in r.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/feed.atom", 200),
        ("/status/shop", 200),
        ("/api/v1/status/shop", 200),
        ("/badge/shop/search/status.svg", 200),
        ("/badge/ops/billing/uptime.svg", 200),
        ("/badge/shop/internal-db/status.svg", 404),
        ("/api/v1/monitors", 404),
        ("/api/v1/resources", 404),
        ("/metrics", 404),
        ("/readyz", 404),
        ("/status/other", 404),
    ],
)
def test_a_custom_domain_serves_its_page_and_assets_only(lite: Site, path: str, status: int) -> None:
    r = lite.client.simulate_get(path, headers={"Host": "status.shop.example"})
    assert r.status_code == status, path


@pytest.mark.parametrize(
    "path", ["/api/v1/incidents", "/api/v1/deliveries", "/api/v1/monitors/shop/search/heartbeats"]
)
def test_an_empty_span_is_an_empty_answer(lite: Site, path: str) -> None:
    """Each time is valid on its own (the OpenAPI document says so), so the pair is not a 400."""
    r = lite.client.simulate_get(
        path, params={"since": "2024-01-02T00:00:00Z", "until": "2024-01-01T00:00:00Z"}
    )
    assert r.status_code == 200 and r.json["items"] == []
