"""Status pages as a visitor sees them: JSON, HTML, custom domains, the Atom feed and the render cache."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest

from app.http.cache import RenderCache, Rendered
from app.model import FailureClass
from tests.http.conftest import Site

ATOM = "{http://www.w3.org/2005/Atom}"


def seed_outage(site: Site) -> None:
    now = site.now
    site.check("checkout-api", True, now - timedelta(days=3))
    site.check("checkout-api", True, now - timedelta(minutes=30))
    # search: a 14-minute outage two days ago, up since, down again for the last 10 minutes
    site.check("search", False, now - timedelta(days=2), reason="timeout talking to 10.1.2.3",
               failure=FailureClass.TIMEOUT)  # fmt: skip
    site.check("search", True, now - timedelta(days=2) + timedelta(minutes=14))
    site.check("search", True, now - timedelta(days=1, hours=1))
    site.check("search", False, now - timedelta(minutes=10))
    site.check("internal-db", False, now - timedelta(minutes=5))  # on no page: must never show
    assert len(site.store.incidents.list(site.uids["search"])) == 2


def test_json_lists_groups_with_only_the_monitors_the_page_names(site: Site) -> None:
    seed_outage(site)
    page = site.client.simulate_get("/api/v1/status/shop").json
    assert (page["title"], page["description"]) == ("Shop status", "Checkout and search for the shop")
    groups = {g["name"]: [f"{m['namespace']}/{m['name']}" for m in g["monitors"]] for g in page["groups"]}
    assert groups == {
        "Checkout": ["shop/checkout-api", "ops/billing"],
        "Everything public": ["shop/checkout-api", "shop/search"],
    }
    assert "internal-db" not in site.client.simulate_get("/api/v1/status/shop").text
    assert page["status"] == {"overall": "partial_outage", "text": "Partial outage"}


def test_each_monitor_has_state_uptime_and_ninety_daily_bars(site: Site) -> None:
    seed_outage(site)
    monitors = {
        m["name"]: m
        for g in site.client.simulate_get("/api/v1/status/shop").json["groups"]
        for m in g["monitors"]
    }
    search = monitors["search"]
    assert search["state"] == "DOWN" and search["uptime"]["24h"]["uptimePercent"] == "0.00"
    assert search["uptime"]["90d"] == {"uptime": 0.5, "uptimePercent": "50.00", "days": 3}
    days = search["days"]
    assert len(days) == 90 and days[-1]["date"] == site.now.date().isoformat()
    today = days[-1]
    if (site.now - timedelta(minutes=10)).date() == site.now.date():
        assert (today["down"], today["level"]) == (1, "major")
    # the two UP checks of seed_outage land on the days their times fall on, whatever the time of day
    ups = Counter(
        (site.now - ago).date().isoformat()
        for ago in (timedelta(days=2, minutes=-14), timedelta(days=1, hours=1))
    )
    assert {d["date"]: d["up"] for d in days if d["up"]} == dict(ups)
    assert sum(d["up"] + d["down"] for d in days) == 4 and days[0]["level"] == "before"
    assert monitors["billing"]["state"] is None and monitors["billing"]["uptime"]["24h"]["uptime"] is None
    assert monitors["checkout-api"]["badges"]["uptime"] == "/badge/shop/checkout-api/uptime.svg"


def test_incidents_show_open_and_recent_without_internal_reasons(site: Site) -> None:
    seed_outage(site)
    r = site.client.simulate_get("/api/v1/status/shop")
    inc = r.json["incidents"]
    assert [(i["monitor"]["name"], i["open"], i["failure"]) for i in inc["open"]] == [
        ("search", True, "refused")
    ]
    assert [(i["monitor"]["name"], i["durationSeconds"]) for i in inc["recent"]] == [("search", 14 * 60)]
    assert "10.0.0.7" not in r.text and "10.1.2.3" not in r.text and "internal" not in r.text


def test_maintenance_shows_the_running_window_and_the_next_one(site: Site) -> None:
    page = site.client.simulate_get("/api/v1/status/shop").json
    active, upcoming = page["maintenance"]["active"], page["maintenance"]["upcoming"]
    assert [(w["title"], w["monitors"]) for w in active] == [("Search reindex", ["search"])]
    assert active[0]["description"] == "Results may be stale"
    assert [(w["title"], w["monitors"]) for w in upcoming] == [
        ("Checkout database upgrade", ["checkout-api"])
    ]
    site.check("checkout-api", True, site.now - timedelta(minutes=1))
    assert site.client.simulate_get("/api/v1/status/shop").json["status"]["overall"] == "maintenance"


def test_html_page_reads_without_javascript(site: Site) -> None:
    seed_outage(site)
    r = site.client.simulate_get("/status/shop")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "<script" not in html and "prefers-color-scheme: dark" in html and 'name="viewport"' in html
    assert "<title>Shop status — Partial outage</title>" in html
    for text in (
        "Checkout",
        "Everything public",
        "checkout-api",
        "search",
        "Ongoing incidents",
        "search is down",
        "Maintenance in progress",
        "Search reindex",
        "Scheduled maintenance",
        "Past incidents",
        "50.00 % uptime",
        'href="/status/shop/feed.atom"',
    ):
        assert text in html, text
    assert html.count("<i") == 4 * 90, "90 bars for each of the 4 rows"
    assert '<i class="major" title="' in html and "% uptime" in html
    assert "internal-db" not in html and "10.0.0.7" not in html and "checkout.internal" not in html
    assert r.headers["cache-control"] == "public, max-age=10"


def test_unknown_slug_is_404_in_html_and_json(lite: Site) -> None:
    html = lite.client.simulate_get("/status/nope")
    assert (
        html.status_code == 404
        and "No such status page" in html.text
        and "text/html" in html.headers["content-type"]
    )
    js = lite.client.simulate_get("/api/v1/status/nope")
    assert js.status_code == 404 and js.json["error"]["description"] == "no status page 'nope'"
    assert lite.client.simulate_get("/status/nope/feed.atom").status_code == 404


def test_custom_domain_serves_the_page_at_the_root(lite: Site) -> None:
    on_domain = lite.client.simulate_get("/", headers={"Host": "Status.Shop.Example"})
    assert on_domain.status_code == 200 and "<title>Shop status" in on_domain.text
    feed = lite.client.simulate_get("/feed.atom", headers={"Host": "status.shop.example"})
    assert feed.headers["content-type"].startswith("application/atom+xml")
    elsewhere = lite.client.simulate_get("/", headers={"Host": "kuma.example"})
    assert "Shop status" not in elsewhere.text, "other hosts keep the dashboard"
    api = lite.client.simulate_get("/api/v1/monitors", headers={"Host": "status.shop.example"})
    assert api.status_code == 404, "a custom domain serves its page and its assets, nothing else"


def test_atom_feed_of_incidents(site: Site) -> None:
    seed_outage(site)
    r = site.client.simulate_get("/status/shop/feed.atom")
    feed = ET.fromstring(r.content)
    assert feed.tag == f"{ATOM}feed" and feed.findtext(f"{ATOM}title") == "Shop status — incidents"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "search: outage (ongoing)",
        "search: outage (resolved)",
    ]
    assert all(e.findtext(f"{ATOM}id", "").startswith("urn:kubekuma:incident:") for e in entries)
    assert "still open" in (entries[0].findtext(f"{ATOM}summary") or "")
    assert "10.0.0.7" not in r.text


def test_a_page_with_nothing_checked_yet(lite: Site) -> None:
    page = lite.client.simulate_get("/api/v1/status/shop").json
    assert page["status"]["overall"] == "maintenance"  # the reindex window is running
    assert all(m["state"] is None for g in page["groups"] for m in g["monitors"])


def test_a_burst_of_visitors_costs_one_build(site: Site) -> None:
    cache = RenderCache(ttl=10)
    started = threading.Event()

    def slow_build() -> Rendered:
        started.set()
        time.sleep(0.2)
        return Rendered.of("page", "text/plain")

    results: list[Rendered] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("/status/shop?", slow_build)))
        for _ in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.builds == 1 and len(results) == 20 and {r.body for r in results} == {b"page"}
    assert cache.get("/status/shop?", slow_build) is results[0] and cache.builds == 1


def test_the_cache_expires_and_forgets_failures() -> None:
    now = [0.0]
    cache = RenderCache(ttl=10, clock=lambda: now[0])
    cache.get("k", lambda: Rendered.of("one", "text/plain"))
    now[0] = 11.0
    assert cache.get("k", lambda: Rendered.of("two", "text/plain")).body == b"two"

    def broken() -> Rendered:
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        cache.get("x", broken)
    assert cache.get("x", lambda: Rendered.of("back", "text/plain")).body == b"back"


def test_server_cache_serves_the_same_page_for_ten_seconds(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from falcon.testing import TestClient

    from app.catalog import Catalog
    from app.http.app import create_app
    from app.http.public import PublicOptions
    from tests.http.conftest import MANIFESTS, seed_folder

    now = datetime.now(UTC)
    seed_folder(
        store,
        tmp_path / "m",
        MANIFESTS.format(active_start="2020-01-01T00:00:00Z", upcoming_start="2020-01-01T00:00:00Z"),
    )
    cache = RenderCache(ttl=10)
    client = TestClient(
        create_app(store, Catalog(store), public=PublicOptions(clock=lambda: now, cache=cache))
    )
    for _ in range(5):
        assert client.simulate_get("/status/shop").status_code == 200
        client.simulate_get("/api/v1/status/shop")
        client.simulate_get("/badge/shop/search/status.svg")
    assert cache.builds == 3 and cache.hits == 12


def test_pages_are_gzipped_for_clients_that_accept_it(lite: Site) -> None:
    import gzip

    plain = lite.client.simulate_get("/status/shop")
    packed = lite.client.simulate_get("/status/shop", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert gzip.decompress(packed.content) == plain.content and len(packed.content) < len(plain.content) / 4
    assert packed.headers["vary"] == "Accept-Encoding" and packed.headers["etag"] != plain.headers["etag"]
    again = lite.client.simulate_get(
        "/status/shop", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["etag"]}
    )
    assert again.status_code == 304
