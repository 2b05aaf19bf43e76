"""GET /api/v1/incidents and /api/v1/deliveries: what a user sees after outages, with every filter."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import falcon.testing
import psycopg2
import pytest

from app.http.access.middleware import AccessOptions
from app.http.app import create_app
from tests.access import MutableSecrets, client_as, grant_key
from tests.conftest import PG_ADMIN
from tests.integration.test_alerting_pipeline import (
    MONITOR,
    PROVIDER,
    Harness,
    WebhookReceiver,
    policy,
    wait_for,
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per module and backend: every test here only reads what the fixture wrote."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('api') / 'kk.db'}"
        return
    name = f"kk_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(PG_ADMIN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def client(db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[falcon.testing.TestClient]:
    """Two monitors, two providers; checkout went down and came back, cart is down now."""
    receiver = WebhookReceiver()
    harness = Harness(db, tmp_path_factory.mktemp("manifests"))
    try:
        yield _outages(harness, receiver)
    finally:
        harness.close()
        receiver.stop()


def _outages(harness: Harness, receiver: WebhookReceiver) -> falcon.testing.TestClient:
    mail = PROVIDER.format(name="mail", url=receiver.url).split("apiVersion: v1\n")[0]  # without its Secret
    harness.apply(
        MONITOR.format(name="checkout"),
        MONITOR.format(name="cart"),
        PROVIDER.format(name="chat", url=receiver.url),
        mail,
        policy(provider="chat"),
        policy(name="mail", provider="mail", priority=1, **{"continue": True}),
    )
    for name in ("checkout", "cart"):
        harness.check(name, ok=True)
        harness.check(name, ok=False)
    harness.check("checkout", ok=True)
    wait_for("six deliveries settled", lambda: [d.status for d in harness.deliveries()].count("sent") == 6)
    secrets = MutableSecrets()
    app = create_app(harness.store, harness.catalog, access=AccessOptions(secrets=secrets))
    return client_as(app, grant_key(harness.store, secrets, "viewer", scopes=["incidents:read"]))


def get(client: falcon.testing.TestClient, path: str, **params: Any) -> Any:
    r = client.simulate_get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json


INCIDENTS = [
    pytest.param({}, [("cart", True), ("checkout", False)], id="all-newest-first"),
    pytest.param({"open": "true"}, [("cart", True)], id="open"),
    pytest.param({"open": "false"}, [("checkout", False)], id="closed"),
    pytest.param({"namespace": "shop", "monitor": "checkout"}, [("checkout", False)], id="one-monitor"),
    pytest.param({"namespace": "other"}, [], id="other-namespace"),
    pytest.param({"until": "2000-01-01T00:00:00Z"}, [], id="until-before-everything"),
]


@pytest.mark.parametrize(("params", "expected"), INCIDENTS)
def test_incidents(client: falcon.testing.TestClient, params: dict[str, str], expected: list[Any]) -> None:
    items = get(client, "/api/v1/incidents", **params)["items"]
    assert [(i["monitor"]["name"], i["open"]) for i in items] == expected
    for i in items:
        assert i["firstReason"] == "HTTP 500 from /health" and i["durationSeconds"] >= 0
        assert i["monitor"]["namespace"] == "shop"


def test_incident_time_range_and_paging(client: falcon.testing.TestClient) -> None:
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    assert len(get(client, "/api/v1/incidents", since=since)["items"]) == 2
    page = get(client, "/api/v1/incidents", limit=1)
    assert len(page["items"]) == 1 and page["next"] is not None
    rest = get(client, "/api/v1/incidents", limit=1, before=page["next"])
    assert rest["items"][0]["monitor"]["name"] == "checkout"


DELIVERIES = [
    pytest.param({}, 6, id="all"),
    pytest.param({"provider": "chat"}, 3, id="by-provider-name"),
    pytest.param({"provider": "shop/mail"}, 3, id="by-provider-namespace-and-name"),
    pytest.param({"provider": "nope"}, 0, id="unknown-provider"),
    pytest.param({"namespace": "shop", "monitor": "cart"}, 2, id="by-monitor"),
    pytest.param({"event": "up"}, 2, id="by-event"),
    pytest.param({"status": "sent"}, 6, id="by-status"),
    pytest.param({"status": "suppressed"}, 0, id="none-suppressed"),
]


@pytest.mark.parametrize(("params", "count"), DELIVERIES)
def test_deliveries(client: falcon.testing.TestClient, params: dict[str, str], count: int) -> None:
    items = get(client, "/api/v1/deliveries", **params)["items"]
    assert len(items) == count
    for d in items:
        assert d["status"] == "sent" and d["attempts"] == 1 and d["sentAt"] and d["reason"] is None
        assert d["provider"]["type"] == "webhook" and d["monitor"]["namespace"] == "shop"
        assert d["title"].endswith(("is DOWN", "is UP"))


def test_a_delivery_shows_what_was_sent_and_never_a_secret(client: falcon.testing.TestClient) -> None:
    body = client.simulate_get("/api/v1/deliveries", params={"monitor": "checkout", "event": "up"}).text
    assert "not-so-secret-signing-key" not in body
    d = get(client, "/api/v1/deliveries", monitor="checkout", event="up", provider="chat")["items"][0]
    assert d["title"] == "✅ checkout is UP" and d["monitor"]["name"] == "checkout"
    assert d["eventKey"].startswith("i:") and d["event"] == "up"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/deliveries", {"status": "lost"}, "status"),
        ("/api/v1/deliveries", {"event": "boom"}, "event"),
        ("/api/v1/deliveries", {"since": "yesterday"}, "since"),
        ("/api/v1/incidents", {"open": "maybe"}, "open"),
        ("/api/v1/incidents", {"limit": "0"}, "limit"),
        ("/api/v1/incidents", {"until": "2024-13-01T00:00:00Z"}, "until"),
    ],
    ids=["bad-status", "bad-event", "bad-time", "bad-open", "bad-limit", "bad-month"],
)
def test_bad_filters_are_400_naming_the_parameter(
    client: falcon.testing.TestClient, path: str, params: dict[str, str], field: str
) -> None:
    r = client.simulate_get(path, params=params)
    assert r.status_code == 400 and r.json["error"]["description"].startswith(f"{field}:")
