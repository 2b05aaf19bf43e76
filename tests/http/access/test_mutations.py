"""Changes through the API land where manifests live (here: the folder), valid and one per file."""

from __future__ import annotations

from datetime import timedelta

import yaml

from app.controller.folder import records_from
from app.resources.loader import load_folder
from tests.access import add_resource, bearer, grant_key
from tests.http.access.conftest import SILENCE_BODY, Gate
from tests.notifiers.conftest import Receiver, receiver  # noqa: F401 - the fixture


def editor(gate: Gate) -> dict[str, str]:
    return bearer(grant_key(gate.site.store, gate.site.secrets, "editor"))


def reload(gate: Gate) -> None:
    """What the folder controller does on its next pass: the folder becomes the cache."""
    snap = load_folder(gate.folder, "default")
    assert not snap.problems, [p.lines() for p in snap.problems]
    records, _ = records_from(snap)
    keep = [r for r in gate.site.store.resources.list() if r.kind in ("ApiKey", "LocalUser")]
    gate.site.store.resources.sync(records + keep)


def test_silences_are_created_updated_and_expired_as_files(gate: Gate) -> None:
    h = editor(gate)
    r = gate.client.simulate_post("/api/v1/silences", json=SILENCE_BODY, headers=h)
    assert r.status_code == 201, r.text
    name = r.json["object"]["metadata"]["name"]
    path = gate.folder / r.json["location"]
    assert path == gate.folder / "kubekuma-api" / f"default.silence.{name}.yaml"
    doc = yaml.safe_load(path.read_text())
    assert doc["spec"]["createdBy"] == "apikey:default/test-editor" and "status" not in doc
    reload(gate)
    r = gate.client.simulate_put(f"/api/v1/silences/default/{name}", json={"comment": "longer"}, headers=h)
    assert r.status_code == 200 and yaml.safe_load(path.read_text())["spec"]["comment"] == "longer"
    reload(gate)
    r = gate.client.simulate_post(f"/api/v1/silences/default/{name}/expire", headers=h)
    assert r.status_code == 200
    reload(gate)
    listed = gate.client.simulate_get("/api/v1/silences", headers=h).json["items"]
    assert [s["active"] for s in listed if s["name"] == name] == [False]
    bad = gate.client.simulate_post("/api/v1/silences", json={"spec": {"matchers": []}}, headers=h)
    assert bad.status_code == 422 and "matchers" in bad.json["error"]["description"]


def test_pause_and_resume_rewrite_only_the_monitors_document(gate: Gate) -> None:
    h = editor(gate)
    shared = gate.folder / "all.yaml"
    before = shared.read_text()
    r = gate.client.simulate_post("/api/v1/monitors/shop/search/pause", headers=h)
    assert r.status_code == 200, r.text
    assert r.json["location"] == "all.yaml"
    after = shared.read_text()
    docs = [d for d in yaml.safe_load_all(after) if d]
    assert len(docs) == len([d for d in yaml.safe_load_all(before) if d])
    search = next(d for d in docs if d["metadata"]["name"] == "search")
    assert search["spec"]["enabled"] is False
    assert after.split("name: checkout-api")[0] == before.split("name: checkout-api")[0], "the rest stays"
    reload(gate)
    assert gate.site.store.resources.get("Monitor", "shop", "search").spec["enabled"] is False  # type: ignore[union-attr]
    assert gate.client.simulate_post("/api/v1/monitors/shop/search/resume", headers=h).status_code == 200
    reload(gate)
    assert gate.site.store.resources.get("Monitor", "shop", "search").spec["enabled"] is True  # type: ignore[union-attr]
    assert gate.client.simulate_post("/api/v1/monitors/shop/nope/pause", headers=h).status_code == 404


def test_resources_of_any_kind_are_created_replaced_and_deleted(gate: Gate) -> None:
    h = editor(gate)
    monitor = {"metadata": {"name": "docs", "labels": {"team": "web"}},
               "spec": {"type": "http", "http": {"url": "https://docs.example/"}}}  # fmt: skip
    r = gate.client.simulate_post("/api/v1/resources/monitors/web", json=monitor, headers=h)
    assert r.status_code == 201, r.text
    assert r.json["location"] == "kubekuma-api/web.monitor.docs.yaml"
    reload(gate)
    dup = gate.client.simulate_post("/api/v1/resources/monitors/web", json=monitor, headers=h)
    assert dup.status_code == 409
    monitor["spec"]["interval"] = "5m"  # type: ignore[index]
    assert (
        gate.client.simulate_put("/api/v1/resources/Monitor/web/docs", json=monitor, headers=h).status_code
        == 200
    )
    reload(gate)
    got = gate.client.simulate_get("/api/v1/resources/Monitor/web/docs", headers=h).json
    assert got["spec"]["interval"] == "5m"
    assert gate.client.simulate_delete("/api/v1/resources/Monitor/web/docs", headers=h).status_code == 200
    assert not (gate.folder / "kubekuma-api" / "web.monitor.docs.yaml").exists()
    reload(gate)
    assert gate.client.simulate_get("/api/v1/resources/Monitor/web/docs", headers=h).status_code == 404
    mutations = [e for e in gate.site.store.audit.list(action="mutation")]
    assert [e.details["change"] for e in mutations][::-1] == ["create", "update", "delete"]
    assert all(e.actor == "apikey:default/test-editor" and e.details["address"] for e in mutations)


def test_acknowledging_an_incident_records_who(gate: Gate) -> None:
    uid = gate.site.uids["search"]
    for i in range(3):
        gate.site.check("search", False, gate.site.now - timedelta(minutes=3 - i))
    inc = gate.site.store.incidents.open_for(uid)
    assert inc is not None
    r = gate.client.simulate_post(f"/api/v1/incidents/{inc.id}/ack", headers=editor(gate))
    assert r.status_code == 200 and r.json["acknowledgedBy"] == "apikey:default/test-editor"
    assert gate.site.store.incidents.get(inc.id).acked_at is not None  # type: ignore[union-attr]
    assert gate.client.simulate_post("/api/v1/incidents/999999/ack", headers=editor(gate)).status_code == 404


def test_a_test_notification_goes_through_the_provider(gate: Gate, receiver: Receiver) -> None:  # noqa: F811
    add_resource(gate.site.store, "NotificationProvider", "shop", "hook",
                 {"type": "webhook", "webhook": {"url": receiver.url}})  # fmt: skip
    r = gate.client.simulate_post("/api/v1/providers/shop/hook/test", headers=editor(gate))
    assert r.status_code == 200, r.text
    assert "test notification" in receiver.last.body.decode().lower()
    receiver.answer((500, {"no": "thanks"}))
    r = gate.client.simulate_post("/api/v1/providers/shop/hook/test", headers=editor(gate))
    assert r.status_code == 502


def test_export_is_every_object_ready_to_commit(gate: Gate) -> None:
    h = bearer(grant_key(gate.site.store, gate.site.secrets, "viewer"))
    gate.site.store.resources.set_status(gate.site.uids["search"], {"state": "UP"})
    r = gate.client.simulate_get("/api/v1/export", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/yaml"
    docs = [d for d in yaml.safe_load_all(r.text) if d]
    assert {d["kind"] for d in docs} >= {"Monitor", "StatusPage", "MaintenanceWindow", "NotificationProvider"}
    assert all("status" not in d and "uid" not in d["metadata"] for d in docs)
    assert "SECRET-VALUE" not in r.text and "webhookUrlSecretRef" in r.text, "references, never values"
    # It loads back as it is.
    (gate.folder.parent / "export").mkdir()
    (gate.folder.parent / "export" / "all.yaml").write_text(r.text)
    assert not load_folder(gate.folder.parent / "export").problems
