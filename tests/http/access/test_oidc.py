"""Single sign-on against a real (small) OpenID provider on loopback that signs real JWTs."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import SplitResult, urlsplit

import pytest
import requests
from falcon.testing import Result

from tests.http.access.conftest import Gate
from tests.oidc_provider import Provider, oidc_provider


@pytest.fixture
def provider(gate: Gate) -> Iterator[Provider]:
    with oidc_provider() as p:
        gate.site.secrets.data[("default", "oidc")] = {"secret": p.client_secret}
        configure(gate, p)
        yield p


def configure(gate: Gate, p: Provider, **extra: object) -> None:
    gate.settings(
        oidc={
            "issuer": p.url,
            "clientId": p.client_id,
            "clientSecretRef": {"name": "oidc", "key": "secret"},
            "roleMapping": {"sre": "editor", "admins": "admin", "readers": "viewer"},
            **extra,
        }
    )


def start(gate: Gate) -> tuple[SplitResult, str]:
    """Log in: to the issuer and back; the callback URL and the browser's state cookie."""
    r = gate.client.simulate_get("/api/v1/auth/oidc/login")
    assert r.status_code == 302, r.text
    to = urlsplit(r.headers["location"])
    assert {"code_challenge_method=S256", "response_type=code"} <= set(to.query.split("&"))
    back = requests.get(r.headers["location"], allow_redirects=False, timeout=5)
    assert back.status_code == 302, back.text
    return urlsplit(back.headers["Location"]), r.cookies["kk_oidc_state"].value


def finish(gate: Gate, callback: SplitResult, state_cookie: str) -> Result:
    return gate.client.simulate_get(
        callback.path, query_string=callback.query, cookies={"kk_oidc_state": state_cookie}
    )


def sso(gate: Gate) -> Result:
    return finish(gate, *start(gate))


def me(gate: Gate, r: Result) -> dict[str, object]:
    return gate.client.simulate_get(
        "/api/v1/auth/me", cookies={"kk_session": r.cookies["kk_session"].value}
    ).json


def test_login_maps_groups_to_roles(gate: Gate, provider: Provider) -> None:
    assert "single sign-on" in gate.client.simulate_get("/login").text
    r = sso(gate)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert r.cookies["kk_session"].http_only
    assert me(gate, r) == {
        "name": "oidc:olivia",
        "role": "editor",
        "via": "session",
        "scopes": [],
        "readOnly": False,
    }
    provider.user, provider.groups = "ann", ["readers", "admins"]
    assert me(gate, sso(gate))["role"] == "admin", "the highest role of any group"
    provider.user, provider.groups = "zed", ["marketing"]
    r = sso(gate)
    assert r.status_code == 403 and "no group that maps to a role" in r.json["error"]["description"]
    assert [e.action for e in gate.site.store.audit.list()][:3] == ["login.failed", "login", "login"]


def test_a_rotated_signing_key_is_fetched(gate: Gate, provider: Provider) -> None:
    assert sso(gate).status_code == 303  # the JWKS is cached now
    provider.rotate()
    assert sso(gate).status_code == 303


def test_an_expired_token_is_refused(gate: Gate, provider: Provider) -> None:
    provider.lifetime = -120
    r = sso(gate)
    assert r.status_code == 401 and "ID token is not valid" in r.json["error"]["description"]
    assert "kk_session" not in r.cookies


def test_a_token_for_another_audience_is_refused(gate: Gate, provider: Provider) -> None:
    provider.audience = "another-client"
    r = sso(gate)
    assert r.status_code == 401 and "aud" in r.json["error"]["description"]


def test_a_replayed_or_foreign_state_is_refused(gate: Gate, provider: Provider) -> None:
    callback, cookie = start(gate)
    assert finish(gate, callback, cookie).status_code == 303
    again = finish(gate, callback, cookie)
    assert again.status_code == 400 and "used" in again.json["error"]["description"]
    callback, cookie = start(gate)
    other = finish(gate, callback, "another-browsers-state")
    assert other.status_code == 400 and "another browser" in other.json["error"]["description"]


def test_changing_the_oidc_settings_ends_oidc_sessions(gate: Gate, provider: Provider) -> None:
    r = sso(gate)
    assert me(gate, r)["role"] == "editor"
    configure(gate, provider, roleMapping={"sre": "viewer"})
    assert (
        gate.client.simulate_get(
            "/api/v1/auth/me", cookies={"kk_session": r.cookies["kk_session"].value}
        ).status_code
        == 401
    )
