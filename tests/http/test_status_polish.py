"""The status page a visitor reads: one line per recurring window, true incident durations,
no invented history, uptime per group, incidents by day, a subscribe link, the page's own look."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from falcon.testing import TestClient

from app.http.app import create_app
from app.http.public import PublicOptions
from app.resources.kinds import StatusPageSpec
from tests.http.conftest import MANIFESTS, Site, seed_folder

DAILY = """\
---
apiVersion: kubekuma.io/v1alpha1
kind: MaintenanceWindow
metadata: {name: nightly-backup, namespace: shop}
spec:
  title: Nightly backup
  monitors: [{name: checkout-api}]
  start: "2024-01-01T03:00:00"
  timezone: UTC
  duration: 15m
  rrule: "FREQ=DAILY"
"""

LOOK = """\
---
apiVersion: kubekuma.io/v1alpha1
kind: StatusPage
metadata: {name: branded, namespace: shop}
spec:
  slug: branded
  title: Branded
  logo: "https://cdn.shop.example/logo.svg"
  accentColor: "#ffcc00"
  groups: [{name: All, monitors: [{name: checkout-api}]}]
"""


def reseeded(site: Site, tmp_path: Path, extra: str) -> TestClient:
    """The seeded manifests plus `extra`, served by a fresh app with the site's clock."""
    text = MANIFESTS.format(active_start="2020-01-01T00:00:00Z", upcoming_start="2020-01-01T00:00:00Z")
    seed_folder(site.store, tmp_path / "again", text + extra)
    return TestClient(create_app(site.store, site.catalog, public=PublicOptions(clock=lambda: site.now)))


def test_a_daily_window_is_listed_once_with_its_recurrence_and_next_occurrence(
    lite: Site, tmp_path: Path
) -> None:
    client = reseeded(lite, tmp_path, DAILY)
    upcoming = client.simulate_get("/api/v1/status/shop").json["maintenance"]["upcoming"]
    backups = [w for w in upcoming if w["title"] == "Nightly backup"]
    assert len(backups) == 1, "one line per window, not one per occurrence"
    (b,) = backups
    tomorrow_or_today = [lite.now.date(), lite.now.date() + timedelta(days=1)]
    nxt = datetime.fromisoformat(b["start"].replace("Z", "+00:00"))
    assert nxt > lite.now and nxt.date() in tomorrow_or_today and b["start"].endswith("T03:00:00Z")
    assert b["end"].endswith("T03:15:00Z") and b["recurrence"] == "daily at 03:00 UTC"
    html = client.simulate_get("/status/shop").text
    assert html.split("Scheduled maintenance")[1].count("Nightly backup") == 1
    assert "Repeats daily at 03:00 UTC" in html and f"Next: {b['start'][:10]} 03:00" in html


def test_an_incident_shorter_than_a_minute_shows_its_seconds(site: Site) -> None:
    at = site.now.replace(second=5) - timedelta(hours=2)
    site.check("checkout-api", False, at)
    site.check("checkout-api", True, at + timedelta(seconds=35))
    page = site.client.simulate_get("/api/v1/status/shop").json
    (inc,) = page["incidents"]["recent"]
    assert inc["durationSeconds"] == 35 and inc["duration"] == "35 s"
    html = site.client.simulate_get("/status/shop").text
    assert "(35 s)" in html and "(1 min)" not in html
    hm = at.strftime("%H:%M")
    assert f"{hm}:05 – {hm}:40 UTC" in html and f"from {hm} UTC to" not in html


def test_days_before_the_first_check_are_no_data_and_the_uptime_says_how_long(site: Site) -> None:
    first = site.now - timedelta(days=3)
    site.check("checkout-api", False, first)
    site.check("checkout-api", True, first + timedelta(hours=1))
    page = site.client.simulate_get("/api/v1/status/shop").json
    m = page["groups"][0]["monitors"][0]
    assert m["name"] == "checkout-api" and m["monitoredSince"] == first.date().isoformat()
    days = m["days"]
    assert [d["level"] for d in days[:86]] == ["before"] * 86, "no history before the first check"
    assert days[86]["date"] == first.date().isoformat() and days[86]["level"] != "before"
    assert m["uptime"]["90d"]["days"] == 4
    html = site.client.simulate_get("/status/shop").text
    assert "uptime over 4 days" in html and "over 90 days" not in html.split("checkout-api")[1][:600]
    assert f"since {first.date().isoformat()}" in html
    # billing was never checked: no bar claims a day of history
    billing = page["groups"][0]["monitors"][1]
    assert billing["monitoredSince"] is None and {d["level"] for d in billing["days"]} == {"before"}


def test_each_group_has_its_overall_uptime(site: Site) -> None:
    t = site.now - timedelta(hours=3)
    site.check("checkout-api", True, t)
    site.check("checkout-api", True, t + timedelta(minutes=1))
    site.check("checkout-api", True, t + timedelta(minutes=2))
    site.check("search", False, t)
    page = site.client.simulate_get("/api/v1/status/shop").json
    groups = {g["name"]: g["uptime"] for g in page["groups"]}
    # Checkout: checkout-api 3 up, billing nothing -> 100; Everything public: 3 up and 1 down -> 75
    assert groups["Checkout"]["90d"]["uptimePercent"] == "100"
    assert groups["Everything public"]["90d"] == {"uptime": 0.75, "uptimePercent": "75.00"}
    html = site.client.simulate_get("/status/shop").text
    assert re.search(r"Everything public</h2>\s*<span[^>]*>75\.00 % uptime", html)


def test_incident_history_by_day_with_quiet_days(site: Site) -> None:
    two_days_ago = site.now - timedelta(days=2)
    site.check("search", False, two_days_ago)
    site.check("search", True, two_days_ago + timedelta(minutes=14))
    history = site.client.simulate_get("/api/v1/status/shop").json["incidents"]["history"]
    assert len(history) == 14 and history[0]["date"] == site.now.date().isoformat()
    dates = [h["date"] for h in history]
    assert dates == sorted(dates, reverse=True)
    by_date = {h["date"]: h["incidents"] for h in history}
    assert [i["monitor"]["name"] for i in by_date[two_days_ago.date().isoformat()]] == ["search"]
    assert sum(len(v) for v in by_date.values()) == 1
    html = site.client.simulate_get("/status/shop").text
    assert html.count("No incidents reported.") == 13
    assert "14 min" in html


def test_a_subscribe_link_to_the_feed(lite: Site) -> None:
    html = lite.client.simulate_get("/status/shop").text
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert re.search(r'<a [^>]*href="/status/shop/feed.atom"[^>]*>Subscribe', html)


def test_the_page_wears_its_own_logo_and_accent(lite: Site, tmp_path: Path) -> None:
    client = reseeded(lite, tmp_path, LOOK)
    r = client.simulate_get("/status/branded")
    assert r.status_code == 200
    assert '<img class="logo" src="https://cdn.shop.example/logo.svg" alt="">' in r.text, (
        "decorative: the title is beside it"
    )
    assert "--accent:#ffcc00" in r.text and "--on-accent:#000000" in r.text
    assert "img-src 'self' data: https://cdn.shop.example" in r.headers["content-security-policy"]
    page = client.simulate_get("/api/v1/status/branded").json
    assert (page["logo"], page["accentColor"]) == ("https://cdn.shop.example/logo.svg", "#ffcc00")
    plain = client.simulate_get("/status/shop")
    assert "<img" not in plain.text and "img-src 'self' data:;" in plain.headers["content-security-policy"]


def test_logo_and_accent_are_validated() -> None:
    ok = {"slug": "s", "title": "S"}
    StatusPageSpec.model_validate(
        ok | {"logo": "data:image/png;base64,iVBORw0KGgo=", "accentColor": "#A0b1C2"}
    )
    for bad in ("javascript:alert(1)", "ftp://x/logo.png", "data:text/html,<b>", "https://x/a b.png",
                "https://x/" + "a" * 17000):  # fmt: skip
        try:
            StatusPageSpec.model_validate(ok | {"logo": bad})
        except ValueError as exc:
            assert "logo" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")
    for bad in ("red", "#fff", "#12345g", "#1234567"):
        try:
            StatusPageSpec.model_validate(ok | {"accentColor": bad})
        except ValueError as exc:
            assert "accentColor" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")
