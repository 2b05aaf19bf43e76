"""A full session leaves no password, hash, key, TOTP secret or session id in logs, answers or rows."""

from __future__ import annotations

import logging
import sqlite3

import pyotp
import pytest
from falcon.testing import Result

from app.http.access.hashing import digest, key_hash
from tests.access import add_user, bearer, grant_key
from tests.http.access.conftest import PASSWORD, SILENCE_BODY, Gate


def test_a_full_session_leaks_nothing(gate: Gate, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store, secrets = gate.site.store, gate.site.secrets
    totp = pyotp.random_base32()
    add_user(store, secrets, "tina", PASSWORD, "editor", totp=totp)
    key = grant_key(store, secrets, "editor", "robot")
    answers: list[Result] = []

    answers.append(gate.login("tina", "a wrong password"))
    answers.append(gate.login("tina", PASSWORD, totp="000000"))
    r = gate.login("tina", PASSWORD, totp=pyotp.TOTP(totp).at(gate.clock()))
    answers.append(r)
    s = {"cookie": r.cookies["kk_session"].value, "csrf": r.json["csrfToken"]}
    answers.append(gate.as_session(s, "GET", "/api/v1/auth/me"))
    answers.append(gate.as_session(s, "POST", "/api/v1/silences", json=SILENCE_BODY))
    answers.append(gate.as_session(s, "GET", "/api/v1/resources"))
    answers.append(gate.client.simulate_get("/api/v1/monitors", headers=bearer(key)))
    answers.append(gate.client.simulate_get("/api/v1/export", headers=bearer(key)))
    admin = grant_key(store, secrets, "admin", "auditor")
    answers.append(gate.client.simulate_get("/api/v1/audit", headers=bearer(admin)))
    answers.append(gate.as_session(s, "POST", "/api/v1/auth/logout"))
    assert [a.status_code for a in answers] == [401, 401, 200, 200, 201, 200, 200, 200, 200, 204]
    assert {e.action for e in store.audit.list()} >= {
        "login",
        "login.failed",
        "logout",
        "key.used",
        "mutation",
    }

    password_hash = secrets.data[("default", "tina-login")]["passwordHash"]
    forbidden = {
        "password": PASSWORD, "wrong password": "a wrong password", "argon2 hash": password_hash,
        "hash salt": password_hash.split("$")[-2], "api key": key, "admin key": admin,
        "key hash": key_hash(key).split(":")[1], "totp secret": totp, "session id": s["cookie"],
    }  # fmt: skip
    # Where they could end up: every log line, every answer (headers but Set-Cookie, and body), every row.
    logs = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    bodies = "\n".join(
        a.text + repr({k: v for k, v in a.headers.items() if k.lower() != "set-cookie"}) for a in answers
    )
    db = sqlite3.connect(store.url.removeprefix("sqlite:///"))
    rows = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        rows += [repr(row) for row in db.execute(f'SELECT * FROM "{table}"')]
    db.close()
    dump = "\n".join(rows)
    assert rows, "the database was read"
    for what, value in forbidden.items():
        for where, text in (("logs", logs), ("answers", bodies), ("database", dump)):
            assert value not in text, f"the {what} is in the {where}"
    # What is stored instead: the SHA-256 of the session id, gone after logout.
    assert digest(s["cookie"]) not in dump, "logout deleted the session row"
