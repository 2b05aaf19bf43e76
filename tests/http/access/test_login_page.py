"""The /login page in the dashboard's frame: local form, OIDC button when configured, a TOTP step,
and readable errors for a browser's own form post (JSON clients keep their JSON errors)."""

from __future__ import annotations

from urllib.parse import urlencode

import pyotp

from tests.access import add_user
from tests.http.access.conftest import PASSWORD, Gate

HTML_FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html,application/xhtml+xml"}


def post_form(gate: Gate, **fields: str):  # type: ignore[no-untyped-def]
    return gate.client.simulate_post("/api/v1/auth/login", body=urlencode(fields), headers=HTML_FORM)


def test_the_login_page_is_in_the_frame_with_labelled_fields(gate: Gate) -> None:
    r = gate.client.simulate_get("/login")
    assert r.status_code == 200 and "/assets/dashboard.css" in r.text
    for field in ('for="l-user"', 'id="l-user" name="username"', 'for="l-pass"', 'type="password"'):
        assert field in r.text, field
    assert "single sign-on" not in r.text, "no OIDC button unless OIDC is configured"
    assert (
        r.headers["cache-control"] == "no-store"
        and "form-action 'self'" in r.headers["content-security-policy"]
    )


def test_a_wrong_password_shows_the_form_again_with_the_reason(gate: Gate) -> None:
    r = post_form(gate, username="vera", password="wrong")
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
    assert "Wrong username, password or code." in r.text and 'value="vera"' in r.text
    assert "wrong" not in r.text.replace("Wrong", ""), "the password typed is not echoed"
    api = gate.client.simulate_post("/api/v1/auth/login", json={"username": "vera", "password": "wrong"})
    assert api.status_code == 401 and api.json["error"]["title"] == "Login failed"


def test_a_totp_user_gets_a_code_step_then_is_logged_in(gate: Gate) -> None:
    secret = pyotp.random_base32()
    add_user(gate.site.store, gate.site.secrets, "tom", PASSWORD, "viewer", totp=secret)
    step = post_form(gate, username="tom", password=PASSWORD)
    assert step.status_code == 401 and "Your authenticator code" in step.text
    assert 'name="totp"' in step.text and 'type="hidden" name="username" value="tom"' in step.text
    assert "kk_session" not in step.cookies, "no session before the code"
    bad = post_form(gate, username="tom", password=PASSWORD, totp="000000")
    assert bad.status_code == 401 and "Wrong username, password or code." in bad.text
    ok = post_form(gate, username="tom", password=PASSWORD, totp=pyotp.TOTP(secret).at(gate.clock()))
    assert ok.status_code == 303 and ok.headers["location"].endswith("/") and "kk_session" in ok.cookies


def test_oidc_button_when_configured(gate: Gate) -> None:
    gate.settings(oidc={"issuer": "https://id.example", "clientId": "kuma",
                        "clientSecretRef": {"name": "oidc", "key": "secret"}})  # fmt: skip
    page = gate.client.simulate_get("/login").text
    assert 'href="/api/v1/auth/oidc/login"' in page and "Log in with single sign-on" in page
