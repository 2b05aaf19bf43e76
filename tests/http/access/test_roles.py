"""What each role and each scope may and may not do, and the settings that open or close doors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.access import bearer, grant_key
from tests.http.access.conftest import Gate

SILENCE = {
    "spec": {
        "matchers": [{"name": "team", "value": "search"}],
        "endsAt": "2099-01-01T00:00:00Z",
        "comment": "reindex",
    }
}


def key(gate: Gate, role: str, *scopes: str, **kw: object) -> dict[str, str]:
    name = f"{role}-{'-'.join(s.replace(':', '-') for s in scopes) or 'all'}"
    return bearer(grant_key(gate.site.store, gate.site.secrets, role, name, list(scopes) or None, **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("role", "read", "write", "audit"),
    [("viewer", 200, 403, 403), ("editor", 200, 201, 403), ("admin", 200, 201, 200)],
    ids=["viewer", "editor", "admin"],
)
def test_each_role(gate: Gate, role: str, read: int, write: int, audit: int) -> None:
    h = key(gate, role)
    c = gate.client
    assert c.simulate_get("/api/v1/monitors", headers=h).status_code == read
    assert c.simulate_get("/api/v1/incidents", headers=h).status_code == read
    r = c.simulate_post("/api/v1/silences", json=SILENCE, headers=h)
    assert r.status_code == write, r.text
    if write == 403:
        assert "needs the role editor" in r.json["error"]["description"]
    assert c.simulate_get("/api/v1/audit", headers=h).status_code == audit
    # Users, keys and settings are an admin's to change.
    user = {
        "metadata": {"name": "mallory"},
        "spec": {"username": "mallory", "role": "admin", "passwordHashSecretRef": {"name": "m", "key": "h"}},
    }
    r = c.simulate_post("/api/v1/resources/LocalUser/default", json=user, headers=h)
    assert r.status_code == (201 if role == "admin" else 403), r.text


def test_scopes_narrow_a_key(gate: Gate) -> None:
    c = gate.client
    monitors = key(gate, "admin", "monitors:read")
    assert c.simulate_get("/api/v1/monitors", headers=monitors).status_code == 200
    assert c.simulate_get("/api/v1/uptime/shop/checkout-api", headers=monitors).status_code == 200
    r = c.simulate_get("/api/v1/incidents", headers=monitors)
    assert r.status_code == 403 and "incidents:read" in r.json["error"]["description"]
    assert c.simulate_post("/api/v1/monitors/shop/search/pause", headers=monitors).status_code == 403
    assert c.simulate_get("/metrics", headers=monitors).status_code == 403

    silences = key(gate, "editor", "silences:write")
    assert c.simulate_post("/api/v1/silences", json=SILENCE, headers=silences).status_code == 201
    assert c.simulate_get("/api/v1/silences", headers=silences).status_code == 200, "write implies read"
    assert c.simulate_post("/api/v1/incidents/1/ack", headers=silences).status_code == 403

    metrics = key(gate, "viewer", "metrics:read")
    assert c.simulate_get("/metrics", headers=metrics).status_code == 200
    assert c.simulate_get("/api/v1/monitors", headers=metrics).status_code == 403
    # A scope never lifts the role: a viewer key with a write scope still cannot write.
    assert (
        c.simulate_post(
            "/api/v1/silences", json=SILENCE, headers=key(gate, "viewer", "silences:write")
        ).status_code
        == 403
    )


def test_expired_unknown_and_malformed_keys_are_401(gate: Gate) -> None:
    c = gate.client
    old = key(gate, "admin", expires=gate.clock() - timedelta(seconds=1))
    r = c.simulate_get("/api/v1/monitors", headers=old)
    assert r.status_code == 401 and "expired" in r.json["error"]["description"]
    assert c.simulate_get("/api/v1/monitors", headers=bearer("kk_not-a-key")).status_code == 401
    assert c.simulate_get("/api/v1/monitors", headers={"Authorization": "Basic YTpi"}).status_code == 401
    soon = key(gate, "viewer", "monitors:read", expires=gate.clock() + timedelta(minutes=5))
    assert c.simulate_get("/api/v1/monitors", headers=soon).status_code == 200
    gate.clock.advance(minutes=6)
    assert c.simulate_get("/api/v1/monitors", headers=soon).status_code == 401


def test_a_key_use_is_recorded_in_status_and_audit(gate: Gate) -> None:
    h = key(gate, "viewer")
    assert gate.client.simulate_get("/api/v1/monitors", headers=h).status_code == 200
    rec = gate.site.store.resources.get("ApiKey", "default", "viewer-all")
    assert rec is not None and rec.status["lastUsedAt"]
    assert [e.actor for e in gate.site.store.audit.list(action="key.used")] == ["apikey:default/viewer-all"]


def test_anonymous_read_opens_reads_to_viewers_only(gate: Gate) -> None:
    c = gate.client
    assert c.simulate_get("/api/v1/monitors").status_code == 401
    gate.settings(anonymousRead=True)
    assert c.simulate_get("/api/v1/monitors").status_code == 200
    assert c.simulate_get("/").status_code == 200
    assert c.simulate_post("/api/v1/silences", json=SILENCE).status_code == 401
    assert c.simulate_get("/api/v1/audit").status_code == 401, "admin reads stay closed"


def test_metrics_take_a_bearer_token_or_anonymous_metrics(gate: Gate) -> None:
    c = gate.client
    assert c.simulate_get("/metrics").status_code == 401
    assert c.simulate_get("/metrics", headers=key(gate, "viewer", "metrics:read")).status_code == 200
    gate.settings(anonymousMetrics=True)
    assert c.simulate_get("/metrics").status_code == 200
    assert c.simulate_get("/api/v1/monitors").status_code == 401, "metrics only"


def test_read_only_refuses_every_mutation_naming_the_setting(gate: Gate) -> None:
    gate.settings(readOnly=True)
    h = key(gate, "admin")
    c = gate.client
    for method, path in (
        ("POST", "/api/v1/silences"),
        ("POST", "/api/v1/monitors/shop/search/pause"),
        ("POST", "/api/v1/incidents/1/ack"),
        ("DELETE", "/api/v1/resources/Monitor/shop/search"),
        ("PUT", "/api/v1/resources/Monitor/shop/search"),
    ):
        r = c.simulate_request(method, path, json=SILENCE, headers=h)
        assert r.status_code == 403, (method, path)
        assert "readOnly: true" in r.json["error"]["description"]
    assert c.simulate_get("/api/v1/monitors", headers=h).status_code == 200
    assert c.simulate_get("/api/v1/auth/me", headers=h).json["readOnly"] is True


def test_push_tokens_are_shown_to_editors_only(gate: Gate) -> None:
    gate.site.store.resources.set_status(gate.site.uids["search"], {"pushToken": "derived-push-token"})
    c = gate.client
    viewer = c.simulate_get("/api/v1/resources/Monitor/shop/search", headers=key(gate, "viewer"))
    assert viewer.status_code == 200 and "derived-push-token" not in viewer.text
    gate.settings(anonymousRead=True)
    assert "derived-push-token" not in c.simulate_get("/api/v1/resources").text
    editor = c.simulate_get("/api/v1/resources", params={"kind": "Monitor"}, headers=key(gate, "editor"))
    assert "derived-push-token" in editor.text
