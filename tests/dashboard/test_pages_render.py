"""The incidents, deliveries, silences, maintenance, status pages, providers, policies, settings,
API keys and audit pages, rendered by the real app over a real store (falcon.testing, no browser).

Mutations go through the real API with real keys of each role, into a real manifests folder
that is reloaded as the folder controller would; assertions are on what a reader sees.
Viewers and read-only mode get no mutation controls: the server leaves them out.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from falcon.testing import TestClient

from app.store import Store
from tests.access import add_resource, bearer, grant_key
from tests.http.access.conftest import Gate, make_gate
from tests.http.access.test_mutations import reload
from tests.http.conftest import make_site
from tests.notifiers.conftest import Receiver, receiver  # noqa: F401 - the fixture

PAGES = ("/incidents", "/deliveries", "/silences", "/maintenance", "/status-pages", "/providers", "/policies",
         "/settings", "/api-keys", "/audit")  # fmt: skip
MUTATIONS = ("/ack", "/expire", "/test", 'action="/api/v1/silences"')


@pytest.fixture
def gate(sqlite_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store(sqlite_url)
    site = make_site(store, tmp_path)
    t = site.now - timedelta(minutes=30)
    site.check("checkout-api", True, t)
    site.check("search", False, t, reason="connection refused to search.internal:9200")
    yield make_gate(site, tmp_path)
    store.close()


def text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    html = re.sub(r"</?(span|a|strong|code)\b[^>]*>", "", html)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def main(html: str) -> str:
    return html.split('<main id="main"', 1)[1]


def as_role(gate: Gate, role: str) -> TestClient:
    return TestClient(gate.app, headers=bearer(grant_key(gate.site.store, gate.site.secrets, role,
                                                         name=f"page-{role}")))  # fmt: skip


def test_every_page_renders_for_an_admin(gate: Gate) -> None:
    admin = as_role(gate, "admin")
    for path in PAGES:
        r = admin.simulate_get(path)
        assert r.status_code == 200, (path, r.text[:300])
        assert r.headers["content-type"].startswith("text/html") and 'aria-current="page"' in r.text, path
        assert "<h1>" in r.text, path


def test_incidents_open_first_and_acknowledge(gate: Gate) -> None:
    site = gate.site
    at = site.now - timedelta(hours=5)
    site.check("checkout-api", False, at + timedelta(minutes=31))
    site.check("checkout-api", True, at + timedelta(minutes=31, seconds=40))
    editor = as_role(gate, "editor")
    page = editor.simulate_get("/incidents").text
    seen = text(page)
    assert (
        seen.index("Open (1)")
        < seen.index("shop/search")
        < seen.index("Closed")
        < seen.index("shop/checkout-api")
    )
    assert "40 s" in seen and "connection refused to search.internal:9200" in seen
    (incident_id,) = re.findall(r'action="/api/v1/incidents/(\d+)/ack"', page)
    r = editor.simulate_post(f"/api/v1/incidents/{incident_id}/ack")
    assert r.status_code == 200, r.text
    after = editor.simulate_get("/incidents").text
    assert "acknowledged by apikey:default/page-editor" in text(after) and "/ack" not in after
    closed = text(editor.simulate_get("/incidents?state=closed").text)
    assert "Open (" not in closed and "shop/checkout-api" in closed and "shop/search" not in closed
    assert editor.simulate_get("/incidents?state=sideways").status_code == 400
    assert editor.simulate_get("/incidents?monitor=nope").status_code == 400


def test_deliveries_show_suppressed_and_failed_with_why_and_filter(gate: Gate) -> None:
    store, uids, now = gate.site.store, gate.site.uids, gate.site.now
    add_resource(
        store,
        "NotificationProvider",
        "shop",
        "hook",
        {"type": "webhook", "webhook": {"url": "http://127.0.0.1:9/"}},
    )
    hook = store.resources.get("NotificationProvider", "shop", "hook")
    assert hook is not None
    store.deliveries.create("k1", hook.uid, uids["search"], "down", "suppressed", "search down", "", now,
                            reason="silenced by shop/deploy")  # fmt: skip
    store.deliveries.create("k2", hook.uid, uids["checkout-api"], "down", "failed", "<b>x</b>", "", now,
                            reason="HTTP 500 from the <webhook>")  # fmt: skip
    store.deliveries.create("k3", hook.uid, uids["checkout-api"], "up", "sent", "up", "", now)
    viewer = as_role(gate, "viewer")
    page = viewer.simulate_get("/deliveries").text
    seen = text(page)
    assert "silenced by shop/deploy" in seen and "HTTP 500 from the <webhook>" in seen
    assert "&lt;webhook&gt;" in page and "<webhook>" not in page, "escaped"
    only_failed = text(viewer.simulate_get("/deliveries?status=failed").text)
    assert "HTTP 500" in only_failed and "silenced by" not in only_failed
    by_monitor = text(viewer.simulate_get("/deliveries?monitor=shop/search").text)
    assert "silenced by" in by_monitor and "HTTP 500" not in by_monitor
    assert "No delivery matches." in text(viewer.simulate_get("/deliveries?provider=shop/oncall").text)
    assert viewer.simulate_get("/deliveries?status=lost").status_code == 400


def test_silence_created_from_a_monitor_and_expired(gate: Gate) -> None:
    editor = as_role(gate, "editor")
    form = editor.simulate_get("/silences?monitor=shop/search").text
    assert "__namespace__=shop\n__name__=search" in form and 'action="/api/v1/silences"' in form
    short = {
        "namespace": "shop",
        "matchers": "__namespace__=shop\n__name__=search",
        "duration": "2h",
        "comment": "reindex",
    }  # the form's fields, as the dashboard's script posts them
    r = editor.simulate_post("/api/v1/silences", json=short)
    assert r.status_code == 201, r.text
    name = r.json["object"]["metadata"]["name"]
    reload(gate)
    seen = text(editor.simulate_get("/silences").text)
    assert f"active shop/{name} __namespace__=shop __name__=search" in seen and "reindex" in seen
    assert editor.simulate_post(f"/api/v1/silences/shop/{name}/expire").status_code == 200
    reload(gate)
    page = editor.simulate_get("/silences").text
    assert f"expired shop/{name}" in text(page) and f"/silences/shop/{name}/expire" not in page
    bad = editor.simulate_post("/api/v1/silences", json={"matchers": "team", "duration": "2h"})
    assert bad.status_code == 400 and "not name=value" in bad.json["error"]["description"]
    bad = editor.simulate_post("/api/v1/silences", json={"matchers": "team=x", "duration": "forever"})
    assert bad.status_code == 400 and "duration" in bad.json["error"]["description"]


def test_a_silence_from_a_label_set(gate: Gate) -> None:
    page = as_role(gate, "editor").simulate_get("/silences?labels=team=payments,tier!=low").text
    assert "team=payments\ntier!=low</textarea>" in page


def test_maintenance_one_line_per_window_running_marked(gate: Gate) -> None:
    add_resource(gate.site.store, "MaintenanceWindow", "shop", "nightly", {
        "title": "Nightly backup", "monitors": [{"name": "checkout-api"}], "start": "2024-01-01T03:00:00",
        "duration": "15m", "rrule": "FREQ=DAILY"})  # fmt: skip
    seen = text(as_role(gate, "viewer").simulate_get("/maintenance").text)
    assert seen.count("Nightly backup") == 1 and "daily at 03:00 UTC" in seen and "15 min" in seen
    running = seen.split("Search reindex")[1]
    assert (
        running.lstrip().startswith("shop/search-reindex") and "running until" in running.split("Nightly")[0]
    )
    assert "Checkout database upgrade" in seen and "once" in seen


def test_status_pages_link_to_the_public_pages(gate: Gate) -> None:
    page = as_role(gate, "viewer").simulate_get("/status-pages").text
    assert 'href="/status/shop"' in page and 'href="/status/shop/feed.atom"' in page
    assert "status.shop.example" in page and "Shop status" in page


def test_providers_with_health_and_a_test_that_reaches_a_receiver(gate: Gate, receiver: Receiver) -> None:  # noqa: F811
    store = gate.site.store
    add_resource(
        store, "NotificationProvider", "shop", "hook", {"type": "webhook", "webhook": {"url": receiver.url}}
    )
    hook = store.resources.get("NotificationProvider", "shop", "hook")
    assert hook is not None
    uid, now = gate.site.uids["search"], gate.site.now
    store.deliveries.create(
        "k1", hook.uid, uid, "down", "failed", "t", "", now, reason="HTTP 500 from the receiver"
    )
    editor = as_role(gate, "editor")
    page = editor.simulate_get("/providers").text
    seen = text(page)
    assert "hook shop webhook failed" in seen and "HTTP 500 from the receiver" in seen
    assert 'action="/api/v1/providers/shop/hook/test"' in page and "SECRET-VALUE" not in page
    assert receiver.url not in page, "settings (webhook URLs) are not shown"
    r = editor.simulate_post("/api/v1/providers/shop/hook/test")
    assert r.status_code == 200 and "test notification" in receiver.last.body.decode().lower()


def test_policies_show_what_they_select_and_reach(gate: Gate) -> None:
    store = gate.site.store
    add_resource(
        store,
        "NotificationPolicy",
        "shop",
        "payments",
        {
            "priority": 10,
            "monitorSelector": {"matchLabels": {"team": "payments"}},
            "providers": [{"name": "oncall"}],
        },
    )
    add_resource(store, "NotificationPolicy", "shop", "everything", {
        "priority": 50, "providers": [{"name": "oncall"}, {"name": "ghost"}]})  # fmt: skip
    seen = text(as_role(gate, "viewer").simulate_get("/policies").text)
    first, second = seen.split("payments shop")[1], seen.split("everything shop")[1]
    assert "2 monitors" in first and '2 on "down"' in first and "shop/checkout-api, shop/internal-db" in first
    assert "3 monitors" in second and '1 on "down" (2 stopped by an earlier policy)' in second
    assert "shop/ghost missing" in second and "shop/oncall missing" not in second


def test_settings_read_only_with_secrets_redacted(gate: Gate) -> None:
    add_resource(gate.site.store, "KubeKumaSettings", "", "default", {
        "publicUrl": "https://kuma.example", "auth": {"oidc": {"clientSecret": "hunter2-plain"}},
    })  # fmt: skip
    page = as_role(gate, "viewer").simulate_get("/settings").text
    assert "hunter2-plain" not in page and "(redacted)" in page
    assert "publicUrl: https://kuma.example" in unescape(page) and "heartbeats" in page


def test_api_keys_list_never_the_secret(gate: Gate) -> None:
    admin = as_role(gate, "admin")
    admin.simulate_get("/api/v1/auth/me")
    page = admin.simulate_get("/api-keys").text
    seen = text(page)
    assert "page-admin default admin" in seen and "never" in seen
    assert "keyHashSecretRef" not in page and "hash" not in seen.lower().replace("hashing", "")
    for (ns, name), data in gate.site.secrets.data.items():
        for v in data.values():
            assert v not in page, f"the secret of {ns}/{name} is on the page"


def test_audit_for_admins_filtered_by_actor(gate: Gate) -> None:
    editor = as_role(gate, "editor")
    incidents = editor.simulate_get("/incidents").text
    (incident_id,) = re.findall(r"/api/v1/incidents/(\d+)/ack", incidents)
    editor.simulate_post(f"/api/v1/incidents/{incident_id}/ack")
    admin = as_role(gate, "admin")
    seen = text(admin.simulate_get("/audit?actor=apikey:default/page-editor").text)
    assert f"apikey:default/page-editor mutation incident {incident_id}" in seen
    assert "apikey:default/page-admin" not in seen.split("Details")[1]
    assert as_role(gate, "viewer").simulate_get("/audit").status_code == 403


@pytest.mark.parametrize("who", ["viewer", "read-only editor"])
def test_no_mutation_controls_for_viewers_or_in_read_only_mode(gate: Gate, who: str) -> None:
    add_resource(
        gate.site.store,
        "NotificationProvider",
        "shop",
        "hook",
        {"type": "webhook", "webhook": {"url": "http://127.0.0.1:9/"}},
    )
    add_resource(gate.site.store, "Silence", "shop", "s1", {
        "matchers": [{"name": "team", "value": "search"}], "startsAt": "2020-01-01T00:00:00Z",
        "endsAt": "2099-01-01T00:00:00Z",
    })  # fmt: skip
    if who == "viewer":
        client = as_role(gate, "viewer")
    else:
        gate.settings(readOnly=True)
        client = as_role(gate, "editor")
    for path in ("/incidents", "/silences", "/providers"):
        body = main(client.simulate_get(path).text)
        assert "data-api" not in body and not any(m in body for m in MUTATIONS), (who, path)
    assert "shop/s1" in text(client.simulate_get("/silences").text)


def test_credentials_in_reasons_and_errors_are_masked(gate: Gate) -> None:
    store, uids, now = gate.site.store, gate.site.uids, gate.site.now
    gate.site.check(
        "billing", False, now - timedelta(minutes=3), reason="refused by https://bob:hunter2@db.internal/"
    )
    add_resource(
        store,
        "NotificationProvider",
        "shop",
        "hook",
        {"type": "webhook", "webhook": {"url": "http://127.0.0.1:9/"}},
    )
    hook = store.resources.get("NotificationProvider", "shop", "hook")
    assert hook is not None
    store.deliveries.create("k9", hook.uid, uids["billing"], "down", "failed", "t", "", now,
                            reason="HTTP 401 from https://ann:s3cret@hooks.internal/")  # fmt: skip
    admin = as_role(gate, "admin")
    for path in ("/incidents", "/deliveries", "/providers"):
        page = admin.simulate_get(path).text
        assert "hunter2" not in page and "s3cret" not in page, path
    assert "https://***@db.internal/" in admin.simulate_get("/incidents").text
