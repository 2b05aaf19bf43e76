"""The overview, the monitor list and the monitor page rendered by the real app over a real store.

No browser: falcon.testing against the app `create_app` builds, with real API keys of each
role, checks recorded through the real state machine, and assertions on the HTML a person
would read. The browser tests (test_core_pages.py) cover script, focus and accessibility.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from falcon.testing import TestClient

from app.controller.status import object_status
from app.store import ResourceRecord, Store
from tests.access import add_resource, bearer, grant_key
from tests.http.conftest import Site, make_site


@pytest.fixture
def lite(sqlite_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store(sqlite_url)
    site = make_site(store, tmp_path)
    t = site.now - timedelta(minutes=30)
    for i in range(5):
        at = t + timedelta(minutes=i)
        site.check("checkout-api", True, at, latency_ms=42.0 + i)
        site.check("search", False, at, reason="connection refused to search.internal:9200")
        site.check("billing", True, at, latency_ms=7.5)
    yield site
    store.close()


def text(html: str) -> str:
    """What a reader sees: tags dropped, entities decoded, spaces collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    html = re.sub(r"</?(span|a|strong|code)\b[^>]*>", "", html)  # inline: no space of their own
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def as_role(site: Site, role: str) -> TestClient:
    key = grant_key(site.store, site.secrets, role, name=f"dash-{role}")
    client = TestClient(site.app, headers=bearer(key))
    deadline = time.monotonic() + 5
    while client.simulate_get("/live/overview").status_code == 401 and time.monotonic() < deadline:
        time.sleep(0.1)  # keys are followed by the resource revision, within a second
    return client


def test_overview_counts_attention_and_problems(lite: Site) -> None:
    r = lite.client.simulate_get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    seen = text(r.text)
    assert "1 down" in seen and "2 up" in seen  # search DOWN; checkout-api and billing UP
    # needing attention: search (down) before internal-db (pending, never checked)
    attention = seen.split("Needing attention")[1].split("Open incidents")[0]
    assert attention.index("shop/search") < attention.index("shop/internal-db")
    assert "connection refused to search.internal:9200" in attention
    assert "Open incidents (1)" in seen
    # the running and the upcoming maintenance window, once each
    assert "Search reindex" in seen and seen.count("Checkout database upgrade") == 1


def test_overview_lists_invalid_resources_with_reasons(lite: Site) -> None:
    """A schema problem and a missing reference, each with the reason its Valid condition gives."""
    schema = object_status({}, "Monitor", {}, 1, ["spec.http.url: not an http(s) URL"], [], False)
    missing = object_status({}, "NotificationPolicy", {}, 1, [], ["NotificationProvider shop/pager"], False)
    for kind, name, status in (("Monitor", "broken", schema), ("NotificationPolicy", "route", missing)):
        lite.store.resources.upsert(ResourceRecord(uid=f"uid-{name}", kind=kind, namespace="shop", name=name,
                                                   spec={}, valid=False, status=status))  # fmt: skip
    seen = text(lite.client.simulate_get("/").text)
    assert "Invalid resources (2)" in seen
    assert "Monitor shop/broken InvalidSpec spec.http.url: not an http(s) URL" in seen
    assert "NotificationPolicy shop/route ReferenceNotFound NotificationProvider shop/pager" in seen


def test_live_endpoint_counts_and_lists(lite: Site) -> None:
    body = lite.client.simulate_get("/live/overview").json
    assert body["text"]["DOWN"] == 1 and body["text"]["UP"] == 2 and body["text"]["PENDING"] == 1
    assert body["text"]["total"] == 4 and body["text"]["incidents"] == 1
    assert [i["text"] for i in body["lists"]["attention"]] == ["shop/search", "shop/internal-db"]
    assert body["lists"]["attention"][0]["href"] == "/monitors/shop/search"
    lite.check("search", True, lite.now - timedelta(minutes=1))
    body = lite.client.simulate_get("/live/overview").json
    assert body["text"]["DOWN"] == 0 and body["text"]["UP"] == 3 and body["text"]["incidents"] == 0


def rows_of(html: str) -> list[str]:
    """Monitor names in the order the list shows them."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r'<a href="/monitors/[^"]+"><strong>([^<]+)</strong>', body)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["search", "internal-db", "billing", "checkout-api"]),  # state: down, pending, up (by name)
        ("?sort=name", ["billing", "checkout-api", "internal-db", "search"]),  # ops/ before shop/
        ("?sort=-name", ["search", "internal-db", "checkout-api", "billing"]),
        ("?sort=latency", ["billing", "search", "checkout-api", "internal-db"]),  # 7.5, 20, 46 ms, none last
        ("?sort=-latency", ["checkout-api", "search", "billing", "internal-db"]),
        ("?sort=uptime", ["search", "billing", "checkout-api", "internal-db"]),  # 0 %, 100 %, 100 %, none
        ("?state=down", ["search"]),
        ("?state=pending", ["internal-db"]),
        ("?namespace=ops", ["billing"]),
        ("?type=tcp&sort=name", ["internal-db", "search"]),
        ("?label=team%3Dpayments,tier%3Dcritical&sort=name", ["checkout-api", "internal-db"]),
        ("?label=tier%21%3Dcritical&sort=name", ["billing", "search"]),
        ("?q=CHECKOUT", ["checkout-api"]),  # the name, case-insensitive
        ("?q=9200", ["search"]),  # the target
        ("?q=nothing-like-it", []),
    ],
)
def test_monitor_list_filters_and_sorts(lite: Site, query: str, expected: list[str]) -> None:
    r = lite.client.simulate_get("/monitors" + query)
    assert r.status_code == 200
    assert rows_of(r.text) == expected


def test_monitor_list_strip_and_uptime(lite: Site) -> None:
    r = lite.client.simulate_get("/monitors?q=search")
    strip = re.search(r'<svg class="strip".*?</svg>', r.text, re.S)
    assert strip is not None
    cells = re.findall(r'class="b-(\w+)"', strip.group(0))
    assert len(cells) == 24 and "down" in cells and cells.count("none") >= 22
    assert "0 %" in text(r.text) or "0.00 %" in text(r.text)


@pytest.mark.parametrize(
    ("query", "field"),
    [("?state=sideways", "state"), ("?type=carrier-pigeon", "type"), ("?sort=colour", "sort"),
     ("?page=0", "page"), ("?page=x", "page"), ("?q=" + "a" * 201, "q")],
)  # fmt: skip
def test_monitor_list_refuses_bad_parameters(lite: Site, query: str, field: str) -> None:
    r = lite.client.simulate_get("/monitors" + query)
    assert r.status_code == 400
    assert r.json["error"]["description"].startswith(f"{field}:")


def test_bad_label_selector_is_shown_on_the_page(lite: Site) -> None:
    r = lite.client.simulate_get("/monitors?label=team%3D%3D%3D")
    assert r.status_code == 400 and "text/html" in r.headers["content-type"]
    assert "label:" in text(r.text) and rows_of(r.text) == []


def test_monitor_page_shows_state_chart_checks_and_yaml(lite: Site) -> None:
    lite.store.resources.set_status(lite.uids["search"], object_status({}, "Monitor", {}, 1, [], [], False))
    lite.catalog.refresh(force=True)
    r = lite.client.simulate_get("/monitors/shop/search")
    assert r.status_code == 200
    seen = text(r.text)
    assert "search DOWN" in seen and "connection refused to search.internal:9200" in seen
    for window in ("24h", "7d", "30d", "90d"):
        assert window in seen
    assert r.text.count('data-tip="') >= 2 * 96  # history and latency over 24 h: 96 points each
    assert "4 down" in r.text or "down, " in r.text
    assert "kind: Monitor" in r.text and "port: 9200" in r.text
    assert "Incidents" in seen and "open" in seen
    assert "Valid True SpecValid" in seen  # the conditions table


@pytest.mark.parametrize("rng", ["1h", "24h", "7d", "30d"])
def test_monitor_page_ranges(lite: Site, rng: str) -> None:
    r = lite.client.simulate_get(f"/monitors/shop/checkout-api?range={rng}")
    assert r.status_code == 200
    expected = {"1h": 60, "24h": 96, "7d": 168, "30d": 120}[rng]
    chart = r.text.split('<figure class="chart"')[1].split("</figure>")[0]
    assert chart.count('class="hit"') == expected
    assert " ms avg" in chart  # the points with checks carry their latency


def test_monitor_page_unknown_and_bad_range(lite: Site) -> None:
    assert lite.client.simulate_get("/monitors/shop/nope").status_code == 404
    r = lite.client.simulate_get("/monitors/shop/search?range=1y")
    assert r.status_code == 400 and r.json["error"]["description"].startswith("range:")


def test_viewer_sees_no_mutation_controls(lite: Site) -> None:
    admin = lite.client.simulate_get("/monitors/shop/search").text
    assert "/api/v1/monitors/shop/search/pause" in admin and ">Pause<" in admin
    assert 'href="/silences?monitor=shop/search"' in admin  # a silence starts from the monitor
    for role in ("viewer",):
        page = as_role(lite, role).simulate_get("/monitors/shop/search").text
        assert "/pause" not in page and "/resume" not in page and "data-api" not in page.split("<main")[1]
        assert "/silences?monitor=" not in page


def test_read_only_mode_hides_mutations_from_admins(lite: Site) -> None:
    add_resource(lite.store, "KubeKumaSettings", "", "default", {"readOnly": True})
    time.sleep(1.1)  # the directory follows the resource revision within a second
    page = lite.client.simulate_get("/monitors/shop/search").text
    assert "read-only" in page and "/pause" not in page


def test_push_token_only_for_editors(lite: Site, tmp_path: Path) -> None:
    add_resource(lite.store, "Monitor", "shop", "nightly", {"type": "push", "interval": "60s"})
    lite.catalog.refresh(force=True)
    rec = lite.store.resources.get("Monitor", "shop", "nightly")
    assert rec is not None
    lite.store.resources.set_status(rec.uid, {"pushToken": "tok-ABCDEF123456"})
    admin = lite.client.simulate_get("/monitors/shop/nightly").text
    assert "/api/push/tok-ABCDEF123456" in admin and "curl" in admin
    viewer = as_role(lite, "viewer").simulate_get("/monitors/shop/nightly").text
    assert "tok-ABCDEF123456" not in viewer and "editors and admins only" in viewer


def test_hostile_names_are_escaped(lite: Site, tmp_path: Path) -> None:
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    spec = {
        "type": "http",
        "interval": "60s",
        "description": evil,
        "http": {"url": "https://x.internal/?q=<b>"},
    }
    add_resource(lite.store, "Monitor", "shop", "evil", spec)
    lite.catalog.refresh(force=True)
    for url in ("/monitors", "/monitors?q=%3Cscript%3E", "/monitors/shop/evil", "/"):
        page = lite.client.simulate_get(url).text
        assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in lite.client.simulate_get("/monitors/shop/evil").text


def test_credentials_in_targets_are_masked_and_not_searchable(lite: Site) -> None:
    spec = {"type": "http", "interval": "60s", "http": {"url": "https://bob:hunter2-secret@db.internal/x"}}
    add_resource(lite.store, "Monitor", "shop", "with-creds", spec)
    lite.catalog.refresh(force=True)
    page = lite.client.simulate_get("/monitors/shop/with-creds").text
    assert "hunter2-secret" not in page and "db.internal" in page
    assert rows_of(lite.client.simulate_get("/monitors?q=hunter2").text) == []
    assert rows_of(lite.client.simulate_get("/monitors?q=db.internal/x").text) == ["with-creds"]


def test_pages_need_a_login_and_assets_are_public(lite: Site) -> None:
    assert lite.anonymous is not None
    for url in ("/", "/monitors", "/monitors/shop/search", "/live/overview"):
        assert lite.anonymous.simulate_get(url).status_code == 401
    css = lite.anonymous.simulate_get("/assets/dashboard.css")
    assert css.status_code == 200 and "prefers-color-scheme: dark" in css.text
    page = lite.client.simulate_get("/").text
    versioned = re.search(r'href="(/assets/dashboard\.css\?v=(\w+))"', page)
    assert versioned is not None
    cached = lite.anonymous.simulate_get("/assets/dashboard.css", params={"v": versioned.group(2)})
    assert "immutable" in cached.headers["cache-control"]
    again = lite.anonymous.simulate_get(
        "/assets/dashboard.css", headers={"If-None-Match": cached.headers["etag"]}
    )
    assert again.status_code == 304
    assert lite.anonymous.simulate_get("/assets/other.js").status_code == 404


def test_a_browser_without_a_session_is_sent_to_the_login_form(lite: Site) -> None:
    assert lite.anonymous is not None
    html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for url in ("/", "/monitors", "/monitors/shop/search"):
        r = lite.anonymous.simulate_get(url, headers=html)
        assert r.status_code == 303 and r.headers["location"].endswith("/login"), url
    # the API and the live JSON keep answering 401 with a JSON error
    assert lite.anonymous.simulate_get("/api/v1/monitors", headers=html).status_code == 401
    assert lite.anonymous.simulate_get("/live/overview", headers=html).status_code == 401


def test_theme_switch_sets_a_cookie_and_goes_back_locally(lite: Site) -> None:
    assert lite.anonymous is not None
    r = lite.anonymous.simulate_get("/theme", params={"set": "dark", "next": "/monitors?q=a"})
    assert r.status_code == 303 and r.headers["location"].endswith("/monitors?q=a")
    assert r.cookies["kk_theme"].value == "dark"
    away = lite.anonymous.simulate_get("/theme", params={"set": "light", "next": "//evil.example/"})
    assert away.headers["location"].endswith("/") and "evil" not in away.headers["location"]
    for sly in ("/\t/evil.example/", "/\n/evil.example", "/%09/evil.example", "/\x7f/x"):
        # a browser drops tabs and newlines from a URL: "/<tab>/evil.example" is "//evil.example"
        sent = lite.anonymous.simulate_get("/theme", query_string=f"set=light&next={quote(sly, safe='/%')}")
        assert sent.headers["Location"].endswith("/"), sly
        assert "evil" not in sent.headers["Location"] and "\x7f" not in sent.headers["Location"], sly
    assert lite.anonymous.simulate_get("/theme", params={"set": "pink"}).status_code == 400
    assert lite.anonymous.simulate_get("/theme", query_string="set=").status_code == 400
    page = lite.client.simulate_get("/", headers={"Cookie": "kk_theme=dark"}).text
    assert '<html lang="en" data-theme="dark">' in page


def test_nav_lists_every_page_and_audit_only_for_admins(lite: Site) -> None:
    admin = lite.client.simulate_get("/").text
    nav = admin.split('aria-label="Main"')[1].split("</nav>")[0]
    labels = re.findall(r">([^<]+)</a>", nav)
    assert labels == ["Overview", "Monitors", "Incidents", "Deliveries", "Silences", "Maintenance",
                      "Status pages", "Providers", "Policies", "Settings", "API keys", "Audit"]  # fmt: skip
    viewer = as_role(lite, "viewer").simulate_get("/").text
    assert ">Audit<" not in viewer.split('aria-label="Main"')[1].split("</nav>")[0]


def test_dashboard_policy_allows_its_script_only(lite: Site) -> None:
    r = lite.client.simulate_get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "form-action 'self'" in csp and "unsafe-inline" not in csp
    # other routes keep the strict default
    assert "script-src" not in lite.client.simulate_get("/status/shop").headers["content-security-policy"]
