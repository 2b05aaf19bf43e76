"""Badges: what a README shows, only for monitors on a status page, cacheable."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest

from app.http.badges import render_badge, text_width, uptime_color
from tests.http.conftest import Site

SVG = "{http://www.w3.org/2000/svg}"


def badge(site: Site, path: str, **params: str) -> tuple[str, str, ET.Element]:
    r = site.client.simulate_get(path, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/svg+xml" and r.headers["cache-control"] == "public, max-age=60"
    assert r.headers["etag"]
    svg = ET.fromstring(r.content)
    title = svg.findtext(f"{SVG}title") or ""
    label, _, message = title.partition(": ")
    return label, message, svg


def fill(svg: ET.Element) -> str:
    return svg.findall(f".//{SVG}rect")[2].get("fill", "")  # clip, label, message


@pytest.mark.parametrize(
    ("checks", "message", "color"),
    [([True], "up", "#4c1"), ([True, False], "down", "#e05d44"), ([], "unknown", "#9f9f9f")],
    ids=["up", "down", "never-checked"],
)
def test_status_badge(lite: Site, checks: list[bool], message: str, color: str) -> None:
    for i, ok in enumerate(checks):
        lite.check("search", ok, lite.now - timedelta(minutes=10 - i))
    label, got, svg = badge(lite, "/badge/shop/search/status.svg")
    assert (label, got, fill(svg)) == ("status", message, color)


@pytest.mark.parametrize(
    ("window", "message", "color"),
    [("24h", "75.00%", "#e05d44"), ("7d", "80.00%", "#e05d44"), ("90d", "83.33%", "#e05d44")],
    ids=["24h", "7d", "90d"],
)
def test_uptime_badge_per_window(site: Site, window: str, message: str, color: str) -> None:
    now = site.now
    for ago, ok in (
        (timedelta(days=30), True),
        (timedelta(days=3), True),
        (timedelta(hours=3), False),
        (timedelta(hours=2), True),
        (timedelta(hours=1), True),
        (timedelta(minutes=5), True),
    ):
        site.check("checkout-api", ok, now - ago, latency_ms=120.0)
    label, got, svg = badge(site, "/badge/shop/checkout-api/uptime.svg", window=window)
    assert (label, got, fill(svg)) == (f"uptime {window}", message, color)


@pytest.mark.parametrize(
    ("ratio", "color"),
    [
        (1.0, "brightgreen"),
        (0.995, "green"),
        (0.98, "yellowgreen"),
        (0.96, "yellow"),
        (0.92, "orange"),
        (0.5, "red"),
        (None, "lightgrey"),
    ],
    ids=["100", "99.5", "98", "96", "92", "50", "no-data"],
)
def test_uptime_badge_colours(ratio: float | None, color: str) -> None:
    assert uptime_color(ratio) == color


def test_latency_and_certificate_badges(lite: Site) -> None:
    cert = {"expiresAt": (lite.now + timedelta(days=10, hours=2)).isoformat(), "subject": "x"}
    lite.check("checkout-api", True, lite.now - timedelta(minutes=3), latency_ms=250.0)
    lite.check("checkout-api", True, lite.now - timedelta(minutes=2), latency_ms=350.0, cert=cert)
    assert badge(lite, "/badge/shop/checkout-api/latency.svg")[:2] == ("latency 24h", "300 ms")
    label, message, svg = badge(lite, "/badge/shop/checkout-api/cert.svg")
    assert (label, message, fill(svg)) == ("certificate", "10 days", "#dfb317")
    assert badge(lite, "/badge/shop/search/cert.svg")[1] == "no data"
    expired = {"expiresAt": (lite.now - timedelta(days=1)).isoformat()}
    lite.check("search", True, lite.now - timedelta(minutes=1), cert=expired)
    assert badge(lite, "/badge/shop/search/cert.svg")[1:2] == ("expired",)


def test_a_custom_label(lite: Site) -> None:
    assert badge(lite, "/badge/shop/search/status.svg", label="Search <API>")[0] == "Search <API>"
    r = lite.client.simulate_get("/badge/shop/search/status.svg", params={"label": "x" * 61})
    assert r.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/badge/shop/internal-db/status.svg",
        "/badge/shop/internal-db/uptime.svg",
        "/badge/shop/nope/status.svg",
        "/badge/ops/checkout-api/status.svg",
    ],
    ids=["not-on-a-page", "not-on-a-page-uptime", "unknown", "wrong-namespace"],
)
def test_no_badge_for_monitors_that_no_page_shows(lite: Site, path: str) -> None:
    r = lite.client.simulate_get(path)
    assert r.status_code == 404 and r.json["error"]["status"] == 404


def test_bad_window_is_a_400(lite: Site) -> None:
    r = lite.client.simulate_get("/badge/shop/search/uptime.svg", params={"window": "1y"})
    assert r.status_code == 400 and "24h, 7d, 30d, 90d" in r.json["error"]["description"]


@pytest.mark.parametrize(
    ("text", "width"),
    [("up", 14.0), ("status", 34.0), ("uptime 24h", 63.0), ("99.98%", 43.8)],
    ids=["up", "status", "uptime-24h", "percent"],
)
def test_text_widths_follow_verdana(text: str, width: float) -> None:
    assert text_width(text) == pytest.approx(width, abs=1.0)


def test_badge_geometry_matches_its_text() -> None:
    svg = ET.fromstring(render_badge("status", "up", "brightgreen"))
    assert svg.get("width") == "68" and svg.get("height") == "20"
    rects = svg.findall(f".//{SVG}rect")
    assert [r.get("width") for r in rects[1:3]] == ["44", "24"] and rects[2].get("x") == "44"
    texts = svg.findall(f".//{SVG}text")
    assert [t.text for t in texts] == ["status", "status", "up", "up"]
    assert ET.fromstring(render_badge("a&b", "<x>", "red")).findtext(f"{SVG}title") == "a&b: <x>"
