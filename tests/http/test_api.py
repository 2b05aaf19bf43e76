"""REST API v1 over a real store: filters, detail, heartbeat paging, uptime, resources, errors, ETags."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.http.conftest import Site


def names(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [f"{m['namespace']}/{m['name']}" for m in body["items"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["ops/billing", "shop/checkout-api", "shop/internal-db", "shop/search"]),
        ("namespace=shop", ["shop/checkout-api", "shop/internal-db", "shop/search"]),
        ("selector=team=payments", ["ops/billing", "shop/checkout-api", "shop/internal-db"]),
        ("selector=team=payments,tier!=critical", ["ops/billing"]),
        ("selector=tier in (low, critical),!public", ["shop/internal-db"]),
        ("selector=team notin (payments)", ["shop/search"]),
        ("state=down", ["shop/search"]),
        ("state=UP&type=http", ["shop/checkout-api"]),
        ("type=tcp&namespace=shop&selector=public", ["shop/search"]),
    ],
    ids=[
        "all",
        "namespace",
        "selector-eq",
        "selector-neq",
        "selector-set-and-absent",
        "selector-notin",
        "state-any-case",
        "state-and-type",
        "type-namespace-exists",
    ],
)
def test_monitor_filters(lite: Site, query: str, expected: list[str]) -> None:
    lite.check("checkout-api", True, lite.now - timedelta(minutes=1))
    lite.check("search", False, lite.now - timedelta(minutes=1))
    body = lite.client.simulate_get("/api/v1/monitors", query_string=query).json
    assert names(body) == expected and body["count"] == len(expected)


def test_filters_and_uptime_on_both_databases(site: Site) -> None:
    site.check("checkout-api", True, site.now - timedelta(minutes=2))
    site.check("search", False, site.now - timedelta(minutes=1))
    body = site.client.simulate_get("/api/v1/monitors", params={"selector": "public", "state": "up"}).json
    assert names(body) == ["shop/checkout-api"]
    body = site.client.simulate_get(
        "/api/v1/monitors", params={"selector": "tier in (low)", "type": "tcp"}
    ).json
    assert names(body) == ["shop/search"]
    up = site.client.simulate_get("/api/v1/uptime/shop/search", params={"window": "1h"}).json
    assert (up["up"], up["down"], up["uptimePercent"]) == (0, 1, "0.00")


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ("selector=team=", None, None),  # an empty value is valid Kubernetes syntax
        ("selector=team in ()", "selector", "needs at least one value"),
        ("selector=team=a,,tier=b", "selector", "empty requirement"),
        ("selector=(team", "selector", "unbalanced"),
        ("state=sleeping", "state", "UP, DOWN, PENDING, MAINTENANCE"),
        ("type=gopher", "type", "must be one of http"),
    ],
    ids=["empty-value-ok", "empty-set", "double-comma", "parenthesis", "unknown-state", "unknown-type"],
)
def test_bad_filters_are_400_naming_the_parameter(
    lite: Site, query: str, field: str | None, says: str | None
) -> None:
    r = lite.client.simulate_get("/api/v1/monitors", query_string=query)
    if field is None:
        assert r.status_code == 200
        return
    assert r.status_code == 400
    err = r.json["error"]
    assert err["status"] == 400 and err["description"].startswith(field + ":") and says in err["description"]


def test_detail_has_heartbeats_uptime_incident_and_certificate(site: Site) -> None:
    now = site.now
    site.check("checkout-api", True, now - timedelta(days=20))
    for minutes in (50, 40, 30):
        site.check("checkout-api", False, now - timedelta(minutes=minutes))
    cert = {
        "subject": "checkout.example",
        "issuer": "Example CA",
        "expiresAt": (now + timedelta(days=12, hours=1)).isoformat().replace("+00:00", "Z"),
        "daysLeft": 99,
        "names": ["checkout.example"],
    }
    site.check("checkout-api", True, now - timedelta(minutes=20), latency_ms=40.0, cert=cert)
    recovered = site.client.simulate_get("/api/v1/monitors/shop/checkout-api").json
    assert recovered["openIncident"] is None  # the outage from -50 to -20 minutes is over
    site.check("checkout-api", False, now - timedelta(minutes=5), reason="refused")
    site.check("checkout-api", True, now - timedelta(minutes=1), latency_ms=40.0, cert=cert)

    d = site.client.simulate_get("/api/v1/monitors/shop/checkout-api").json
    assert [h["state"] for h in d["heartbeats"]] == ["UP", "DOWN", "UP", "DOWN", "DOWN", "DOWN", "UP"]
    assert d["uptime"]["24h"]["up"] == 2 and d["uptime"]["24h"]["down"] == 4
    assert d["uptime"]["24h"]["uptimePercent"] == "33.33"
    assert d["uptime"]["30d"]["up"] == 3 and d["uptime"]["30d"]["uptimePercent"] == "42.85"
    assert d["uptime"]["7d"]["checks"] == 6 and d["uptime"]["90d"]["checks"] == 7
    assert d["openIncident"] is None
    incidents = site.client.simulate_get("/api/v1/incidents?namespace=shop&monitor=checkout-api").json[
        "items"
    ]
    assert [(i["open"], i["firstReason"], i["durationSeconds"]) for i in incidents] == [
        (False, "refused", 240.0),
        (False, "connection refused to 10.0.0.7:5432", 1800.0),
    ]
    assert d["certificate"]["daysLeft"] == 12, "days left as of now, not as of the check"
    assert d["certificate"]["subject"] == "checkout.example" and d["certificate"]["expired"] is False
    assert d["spec"]["http"]["url"] == "https://checkout.internal/healthz"


def test_unknown_monitor_is_a_json_404(lite: Site) -> None:
    for path in (
        "/api/v1/monitors/shop/nope",
        "/api/v1/uptime/shop/nope",
        "/api/v1/monitors/shop/nope/heartbeats",
        "/api/v1/nothing-here",
    ):
        r = lite.client.simulate_get(path)
        assert r.status_code == 404 and r.json["error"]["title"] == "Not found", path


def test_heartbeats_page_by_time_and_cursor(site: Site) -> None:
    now = site.now
    for minutes in range(10, 0, -1):  # 10 heartbeats, one a minute, oldest first
        site.check("search", minutes % 3 != 0, now - timedelta(minutes=minutes))

    def page(**params: object) -> dict:  # type: ignore[type-arg]
        return site.client.simulate_get("/api/v1/monitors/shop/search/heartbeats", params=params).json

    first = page(limit=4)
    assert len(first["items"]) == 4 and first["next"] == first["items"][-1]["id"]
    second = page(limit=4, before=first["next"])
    assert [h["time"] for h in second["items"]] < [h["time"] for h in first["items"]][-1:] * 4
    all_times = [h["time"] for h in page(limit=100)["items"]]
    assert all_times == sorted(all_times, reverse=True) and len(all_times) == 10

    since, until = now - timedelta(minutes=6, seconds=30), now - timedelta(minutes=2, seconds=30)
    window = page(since=since.isoformat(), until=until.isoformat().replace("+00:00", "Z"))
    assert len(window["items"]) == 4 and window["next"] is None
    paged = page(since=since.isoformat(), limit=3)
    rest = page(since=since.isoformat(), limit=3, before=paged["next"])
    assert len(paged["items"]) == 3 and len(rest["items"]) == 3
    assert {h["id"] for h in paged["items"]}.isdisjoint(h["id"] for h in rest["items"])

    bad = site.client.simulate_get("/api/v1/monitors/shop/search/heartbeats", params={"since": "yesterday"})
    assert bad.status_code == 400 and "RFC 3339" in bad.json["error"]["description"]
    order = site.client.simulate_get(
        "/api/v1/monitors/shop/search/heartbeats",
        params={"since": now.isoformat(), "until": since.isoformat()},
    )
    # Each time is valid on its own; the span between them is empty, and so is the answer.
    assert order.status_code == 200 and order.json["items"] == []


@pytest.mark.parametrize(
    ("window", "up", "down"),
    [(None, 2, 1), ("1h", 1, 1), ("7d", 2, 2), ("90d", 3, 2)],
    ids=["default-24h", "1h", "7d", "90d"],
)
def test_uptime_endpoint(lite: Site, window: str | None, up: int, down: int) -> None:
    now = lite.now
    for ago, ok in (
        (timedelta(days=60), True),
        (timedelta(days=5), False),
        (timedelta(hours=20), True),
        (timedelta(minutes=30), False),
        (timedelta(minutes=10), True),
    ):
        lite.check("checkout-api", ok, now - ago, latency_ms=30.0)
    params = {"window": window} if window else {}
    body = lite.client.simulate_get("/api/v1/uptime/shop/checkout-api", params=params).json
    assert (body["window"], body["up"], body["down"]) == (window or "24h", up, down)
    assert body["uptime"] == pytest.approx(up / (up + down)) and body["avgLatencyMs"] == 30.0
    assert body["until"] == now.isoformat().replace("+00:00", "Z")


def test_uptime_window_must_be_readable(lite: Site) -> None:
    r = lite.client.simulate_get("/api/v1/uptime/shop/checkout-api", params={"window": "forever"})
    assert r.status_code == 400 and r.json["error"]["description"].startswith("window:")


def test_resources_list_every_kind_with_status_and_no_secret_values(site: Site) -> None:
    body = site.client.simulate_get("/api/v1/resources").json
    # the ApiKey is the test's own credential (tests/access.py)
    assert body["kinds"] == {
        "ApiKey": 1,
        "MaintenanceWindow": 2,
        "Monitor": 4,
        "NotificationProvider": 1,
        "StatusPage": 1,
    }
    assert "SECRET-VALUE" not in site.client.simulate_get("/api/v1/resources").text
    provider = site.client.simulate_get("/api/v1/resources/notificationproviders").json["items"][0]
    assert provider["spec"]["slack"] == {"webhookUrlSecretRef": {"key": "url", "name": "slack"}}
    for kind in ("StatusPage", "statuspages", "sp"):
        assert [r["name"] for r in site.client.simulate_get(f"/api/v1/resources/{kind}").json["items"]] == [
            "shop"
        ]
    only_ops = site.client.simulate_get("/api/v1/resources", params={"namespace": "ops"}).json
    assert [(r["kind"], r["name"]) for r in only_ops["items"]] == [("Monitor", "billing")]
    missing = site.client.simulate_get("/api/v1/resources/gizmos")
    assert missing.status_code == 404 and "StatusPage" in missing.json["error"]["description"]


def test_reads_carry_an_etag_and_answer_304_when_unchanged(site: Site) -> None:
    site.check("search", True, site.now - timedelta(minutes=1))
    for path in (
        "/api/v1/monitors",
        "/api/v1/monitors/shop/search",
        "/api/v1/status/shop",
        "/status/shop",
        "/badge/shop/search/status.svg",
        "/api/v1/resources",
    ):
        first = site.client.simulate_get(path)
        etag = first.headers["etag"]
        again = site.client.simulate_get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", path
        other = site.client.simulate_get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.headers["etag"] == etag, path
    before = site.client.simulate_get("/api/v1/monitors/shop/search").headers["etag"]
    site.check("search", False, site.now)
    changed = site.client.simulate_get("/api/v1/monitors/shop/search", headers={"If-None-Match": before})
    assert changed.status_code == 200 and changed.headers["etag"] != before


def test_transitions_show_what_each_state_change_did(site: Site) -> None:
    now = site.now
    site.check("search", True, now - timedelta(minutes=3))
    site.check("search", False, now - timedelta(minutes=2))
    site.check("search", True, now - timedelta(minutes=1))

    r = site.client.simulate_get("/api/v1/transitions", params={"namespace": "shop", "monitor": "search"})
    items = r.json["items"]
    assert [(t["from"], t["to"], t["event"], t["status"]) for t in items] == [
        ("DOWN", "UP", "up", "pending"),
        ("UP", "DOWN", "down", "pending"),
        (None, "UP", None, "pending"),
    ]
    assert items[0]["incidentId"] == items[1]["incidentId"] is not None
    assert items[0]["monitor"]["name"] == "search"
    bad = site.client.simulate_get("/api/v1/transitions", params={"status": "lost"})
    assert bad.status_code == 400 and "status" in bad.json["error"]["description"]
    empty = site.client.simulate_get("/api/v1/transitions", params={"status": "failed"})
    assert empty.json == {"items": [], "next": None}


def test_a_failed_delivery_to_a_provider_that_does_not_exist_names_it(site: Site) -> None:
    site.store.deliveries.create(
        "i:1:down", "missing:NotificationProvider/shop/gone", site.uids["search"], "down", "failed",
        "t", "b", site.now, "provider shop/gone does not exist", 1,
    )  # fmt: skip
    r = site.client.simulate_get("/api/v1/deliveries", params={"provider": "shop/gone"})
    (row,) = r.json["items"]
    assert row["provider"] == {
        "uid": "missing:NotificationProvider/shop/gone", "namespace": "shop", "name": "gone", "type": None,
    }  # fmt: skip
    assert (row["status"], row["lastError"]) == ("failed", "provider shop/gone does not exist")
