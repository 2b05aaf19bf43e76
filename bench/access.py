"""Access: what authentication adds to each API request (target: under 0.2 ms for a session or a key).

The access middleware's `process_resource` is timed on its own, on real requests built by
Falcon, over a real SQLite store with 50 users and 50 keys: a public route (the floor), an
API key, a session cookie, and an anonymous read with `anonymousRead`. Sessions are read
from the database at most every two seconds per session, so the timing includes those
reads amortised, as a steady client sees them. A login (one argon2id verification) is
timed too: it is paid once per session, not per request.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import falcon
import falcon.testing

from app.http.access.hashing import hash_password, key_hash, new_key, verify_password
from app.http.access.middleware import Access, AccessMiddleware, AccessOptions
from app.resources.loader import SecretStore
from app.resources.registry import folder_uid
from app.store import ResourceRecord, Store
from bench.common import median, percentile, save, say, table

USERS = KEYS = 50


def _seed(store: Store) -> tuple[dict[tuple[str, str], dict[str, str]], str, str]:
    secrets: dict[tuple[str, str], dict[str, str]] = {}
    password_hash = hash_password("bench password 123")
    key = ""
    for i in range(USERS):
        secrets[("default", f"u{i}")] = {"hash": password_hash}
        spec = {
            "username": f"u{i}",
            "role": "viewer",
            "passwordHashSecretRef": {"name": f"u{i}", "key": "hash"},
        }
        store.resources.upsert(
            ResourceRecord(
                folder_uid("LocalUser", "default", f"u{i}"),
                "LocalUser",
                "default",
                f"u{i}",
                spec,
                spec_hash=f"u{i}",
            )
        )
    for i in range(KEYS):
        key = new_key()
        secrets[("default", f"k{i}")] = {"hash": key_hash(key)}
        spec = {
            "role": "viewer",
            "scopes": ["monitors:read"],
            "keyHashSecretRef": {"name": f"k{i}", "key": "hash"},
        }
        store.resources.upsert(
            ResourceRecord(
                folder_uid("ApiKey", "default", f"k{i}"),
                "ApiKey",
                "default",
                f"k{i}",
                spec,
                spec_hash=f"k{i}",
            )
        )
    return secrets, key, password_hash


def _time(mw: AccessMiddleware, n: int, **req: object) -> list[float]:
    out = []
    for _ in range(n):
        r = falcon.testing.create_req(**req)  # type: ignore[arg-type]
        resp = falcon.Response()
        t0 = time.perf_counter()
        mw.process_resource(r, resp, object(), {})
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def main(quick: bool = False) -> dict[str, float]:
    n = 2_000 if quick else 20_000
    say(f"== access: authentication cost per request ({n} requests each, SQLite, {USERS} users, {KEYS} keys)")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'kk.db'}")
        try:
            data, key, password_hash = _seed(store)
            access = Access(store, AccessOptions(secrets=SecretStore(data)))
            mw = AccessMiddleware(access)
            user = access.directory.get().users["u7"]
            session = access.sessions.create(user, "127.0.0.1")
            cases = {
                "public route (floor)": _time(mw, n, path="/healthz"),
                "API key": _time(mw, n, path="/api/v1/monitors", headers={"Authorization": f"Bearer {key}"}),
                "session cookie": _time(
                    mw, n, path="/api/v1/monitors", headers={"Cookie": f"kk_session={session.cookie}"}
                ),
            }
            t0 = time.perf_counter()
            for _ in range(5):
                verify_password(password_hash, "bench password 123")
            login_ms = (time.perf_counter() - t0) / 5 * 1000
        finally:
            store.close()
    floor = median(cases["public route (floor)"])
    rows = [(name, median(v), percentile(v, 99), median(v) - floor) for name, v in cases.items()]
    say(table(rows, ["request", "median µs", "p99 µs", "added over public µs"]))
    added = {name: (median(v) - floor) / 1000 for name, v in cases.items()}
    say(
        f"   target: under 0.2 ms added for a session or a key: key {added['API key']:.3f} ms, "
        f"session {added['session cookie']:.3f} ms; a login (argon2id, once per session) {login_ms:.0f} ms"
    )
    result = {"key_ms": added["API key"], "session_ms": added["session cookie"], "login_ms": login_ms}
    save("access", {**result, "rows": rows})
    return result


if __name__ == "__main__":
    main()
