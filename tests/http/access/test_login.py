"""Local users: sessions with safe cookies, CSRF, rotation, expiry, throttling, TOTP and recovery codes."""

from __future__ import annotations

from datetime import timedelta

import pyotp

from app.http.access.hashing import hash_password
from tests.access import add_user
from tests.http.access.conftest import PASSWORD, SILENCE_BODY, Gate


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(gate: Gate) -> None:
    r = gate.login("eddie")
    assert r.status_code == 200 and r.json["role"] == "editor"
    cookie = r.cookies["kk_session"]
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure  # plain http in the test
    s = {"cookie": cookie.value, "csrf": r.json["csrfToken"]}
    me = gate.as_session(s, "GET", "/api/v1/auth/me").json
    assert (me["name"], me["role"], me["via"]) == ("eddie", "editor", "session")
    assert gate.as_session(s, "POST", "/api/v1/auth/logout").status_code == 204
    assert gate.as_session(s, "GET", "/api/v1/auth/me").status_code == 401
    actions = [e.action for e in gate.site.store.audit.list()]
    assert actions[:2] == ["logout", "login"]


def test_secure_cookie_behind_https(gate: Gate) -> None:
    r = gate.client.simulate_post(
        "/api/v1/auth/login", json={"username": "vera", "password": PASSWORD}, protocol="https"
    )
    assert r.cookies["kk_session"].secure


def test_wrong_password_and_unknown_user_look_alike(gate: Gate) -> None:
    a, b = gate.login("vera", "wrong"), gate.login("nobody", "wrong")
    assert a.status_code == b.status_code == 401
    assert a.json == b.json
    assert [e.action for e in gate.site.store.audit.list()] == ["login.failed", "login.failed"]


def test_cookie_mutations_need_the_csrf_token(gate: Gate) -> None:
    s = gate.session("eddie")
    r = gate.as_session(s, "POST", "/api/v1/silences", csrf=False, json=SILENCE_BODY)
    assert r.status_code == 403 and "CSRF" in r.json["error"]["title"]
    bad = {**s, "csrf": "guess"}
    assert gate.as_session(bad, "POST", "/api/v1/silences", json=SILENCE_BODY).status_code == 403
    assert gate.as_session(s, "POST", "/api/v1/silences", json=SILENCE_BODY).status_code == 201


def test_login_rotates_the_session(gate: Gate) -> None:
    first = gate.session("vera")
    r = gate.client.simulate_post(
        "/api/v1/auth/login",
        json={"username": "vera", "password": PASSWORD},
        cookies={"kk_session": first["cookie"]},
    )
    assert r.cookies["kk_session"].value != first["cookie"]
    assert gate.as_session(first, "GET", "/api/v1/auth/me").status_code == 401, "the old id is gone"


def test_idle_and_absolute_expiry(gate: Gate) -> None:
    s = gate.session("vera")
    gate.clock.advance(hours=11)
    assert gate.as_session(s, "GET", "/api/v1/monitors").status_code == 200
    gate.clock.advance(hours=12, minutes=1)  # idle for more than 12 h
    assert gate.as_session(s, "GET", "/api/v1/monitors").status_code == 401
    s = gate.session("vera")
    for _ in range(16):  # used every 11 hours, so never idle, but over a week old at the end
        gate.clock.advance(hours=11)
        ok = gate.as_session(s, "GET", "/api/v1/monitors").status_code
    assert ok == 401


def test_sessions_of_a_removed_or_changed_user_end_at_once(gate: Gate) -> None:
    s = gate.session("vera")
    add_user(gate.site.store, gate.site.secrets, "vera", PASSWORD, "editor")  # promoted: a new definition
    assert gate.as_session(s, "GET", "/api/v1/monitors").status_code == 401
    s = gate.session("vera")
    gate.site.secrets.data[("default", "vera-login")] = {"passwordHash": hash_password("another long one")}
    assert gate.as_session(s, "GET", "/api/v1/monitors").status_code == 401
    s = gate.session("eddie")
    gate.site.store.resources.delete(gate.site.store.resources.get("LocalUser", "default", "eddie").uid)  # type: ignore[union-attr]
    assert gate.as_session(s, "GET", "/api/v1/monitors").status_code == 401


def test_brute_force_is_throttled_per_user_and_per_address(gate: Gate) -> None:
    for _ in range(5):
        assert gate.login("ada", "guess").status_code == 401
    r = gate.login("ada")  # even the right password: the user is throttled
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0 and "too many failed logins" in r.json["error"]["description"]
    gate.clock.advance(minutes=16)
    assert gate.login("ada").status_code == 200, "the window passed"
    # One address spraying many users.
    for i in range(20):
        gate.login(f"user{i}", "guess")
    assert gate.login("eddie").status_code == 429
    assert any(e.details.get("reason") == "throttled" for e in gate.site.store.audit.list(limit=1000))


def test_totp_and_single_use_recovery_codes(gate: Gate) -> None:
    secret = pyotp.random_base32()
    add_user(gate.site.store, gate.site.secrets, "tom", PASSWORD, "viewer", totp=secret)
    r = gate.login("tom")
    assert r.status_code == 401 and r.json["error"]["title"] == "TOTP code required"
    assert gate.login("tom", totp="000000").status_code == 401
    code = pyotp.TOTP(secret).at(gate.clock())
    assert gate.login("tom", totp=code).status_code == 200


def test_totp_enrolment_writes_the_secret_and_gives_recovery_codes(gate: Gate) -> None:
    s = gate.session("vera")
    r = gate.as_session(s, "POST", "/api/v1/auth/totp")
    assert r.status_code == 200 and r.json["qrSvg"].startswith("<svg")
    secret = r.json["manualKey"]
    assert gate.as_session(s, "POST", "/api/v1/auth/totp/confirm", json={"code": "123456"}).status_code == 400
    r = gate.as_session(
        s, "POST", "/api/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).at(gate.clock())}
    )
    assert r.status_code == 200, r.text
    codes = r.json["recoveryCodes"]
    assert len(codes) == 10
    written = gate.folder / "kubekuma-api" / "default.secret.vera-totp.yaml"
    assert written.exists() and oct(written.stat().st_mode & 0o777) == "0o600"
    # The controller would now read that Secret; here the test hands it over the same way.
    gate.site.secrets.data[("default", "vera-totp")] = {"totp": secret}
    assert gate.as_session(s, "GET", "/api/v1/monitors").status_code == 401, "a changed user logs in again"
    assert gate.login("vera").status_code == 401
    assert gate.login("vera", totp=codes[0]).status_code == 200
    assert gate.login("vera", totp=codes[0]).status_code == 401, "a recovery code works once"
    assert gate.login("vera", totp=codes[1]).status_code == 200


def test_dead_sessions_and_old_failures_are_pruned(gate: Gate) -> None:
    gate.session("vera")
    gate.login("eddie", "wrong")
    gate.clock.advance(hours=13)
    store, now = gate.site.store, gate.clock()
    assert store.sessions.prune(now - timedelta(hours=12), now - timedelta(days=7)) == 1
    assert store.throttle.prune(now - timedelta(hours=1)) == 2  # the user's and the address's counters
