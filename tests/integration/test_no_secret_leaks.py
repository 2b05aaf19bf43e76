"""A whole session of `kubekuma run` with Secrets and literal credentials in its manifests: every
response it gives and every line it logs is captured, and none holds any of them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.access import READER, write_reader
from tests.integration.test_embedded import wait_for
from tests.targets import http_target

SECRET_HEADER = "SECRET-HEADER-4f9a1c"
SECRET_PUSH = "SECRET-PUSH-TOKEN-77b2"
SECRET_HOOK = "SECRET-HOOK-PATH-e3d0"
LITERAL_PASS = "LITERAL-PASS-5c21"
LITERAL_TOKEN = "LITERAL-TOKEN-9a8b"
LITERAL_FORM = "LITERAL-FORM-0d3e"
LEAKS = (SECRET_HEADER, SECRET_PUSH, SECRET_HOOK, LITERAL_PASS, LITERAL_TOKEN, LITERAL_FORM)
VALUE_NAMES = ("SECRET_HEADER", "SECRET_PUSH", "SECRET_HOOK", "LITERAL_PASS", "LITERAL_TOKEN", "LITERAL_FORM")

MANIFESTS = """\
apiVersion: v1
kind: Secret
metadata: {{name: creds, namespace: shop}}
stringData: {{header: "Bearer {SECRET_HEADER}", push: {SECRET_PUSH}, hook: "{hook}/{SECRET_HOOK}"}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: with-secret, namespace: shop, labels: {{team: payments}}}}
spec:
  type: http
  interval: 1s
  http:
    url: "{target}/ok"
    headers: [{{name: Authorization, valueFrom: {{secretKeyRef: {{name: creds, key: header}}}}}}]
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: with-literals, namespace: shop, labels: {{team: payments}}}}
spec:
  type: http
  interval: 1s
  retries: 0
  http:
    url: "http://leakuser:{LITERAL_PASS}@127.0.0.1:{port}/missing"
    method: POST
    headers: [{{name: Authorization, value: "Bearer {LITERAL_TOKEN}"}}]
    body: {{form: {{user: bob, password: {LITERAL_FORM}}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: unreachable, namespace: shop, labels: {{team: payments}}}}
spec:
  type: http
  interval: 1s
  retries: 0
  http: {{url: "http://leakuser:{LITERAL_PASS}@127.0.0.1:9/"}}
---
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: job, namespace: shop}}
spec:
  type: push
  interval: 1m
  push: {{tokenSecretRef: {{name: creds, key: push}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: NotificationProvider
metadata: {{name: hook, namespace: shop}}
spec:
  type: webhook
  webhook: {{urlSecretRef: {{name: creds, key: hook}}}}
---
apiVersion: kubekuma.io/v1alpha1
kind: NotificationPolicy
metadata: {{name: oncall, namespace: shop}}
spec:
  monitorSelector: {{matchLabels: {{team: payments}}}}
  triggers: [down, up]
  providers: [{{name: hook}}]
---
apiVersion: kubekuma.io/v1alpha1
kind: StatusPage
metadata: {{name: shop, namespace: shop}}
spec:
  slug: shop
  title: Shop
  groups:
    - name: All
      monitors: [{{name: with-secret}}, {{name: with-literals}}, {{name: unreachable}}, {{name: job}}]
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_a_full_session_shows_and_logs_no_secret_and_no_literal_credential(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    with http_target() as target, http_target() as hook:
        hook.status = 500  # deliveries fail: their errors are shown too
        values = dict(zip(VALUE_NAMES, LEAKS, strict=True))
        (folder / "all.yaml").write_text(
            MANIFESTS.format(target=target.url, port=target.port, hook=hook.url, **values)
        )
        write_reader(folder)  # the API is read with a key (tests/http/access/test_leaks.py covers logins)
        log = tmp_path / "kubekuma.log"
        env = {**os.environ, "KUBEKUMA_LOG_LEVEL": "DEBUG"}
        db = f"sqlite:///{tmp_path / 'kk.db'}"
        cmd = [sys.executable, "-m", "app.cli", "run", "--manifests", str(folder),
               "--listen", f"127.0.0.1:{port}", "--database-url", db]  # fmt: skip
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        seen: list[str] = []
        try:

            def up() -> bool:
                try:
                    return requests.get(base + "healthz", timeout=1).ok
                except requests.ConnectionError:
                    return False

            wait_for("the web role", up, timeout=30)

            def get(path: str, **kw: object) -> requests.Response:
                r = requests.get(base + path.lstrip("/"), timeout=10, headers=READER, **kw)  # type: ignore[arg-type]
                seen.append(f"{path} {r.status_code} {dict(r.headers)} {r.text}")
                return r

            def states() -> dict[str, str]:
                return {m["name"]: m["state"] for m in get("/api/v1/monitors").json().get("items", [])}

            wait_for("checks ran", lambda: states().get("with-literals") == "DOWN", timeout=30)
            wait_for("the unreachable one failed", lambda: states().get("unreachable") == "DOWN", timeout=30)
            r = requests.get(
                base + f"api/push/{SECRET_PUSH}", params={"status": "down", "msg": "failed"}, timeout=5
            )
            seen.append(f"push {r.status_code} {dict(r.headers)} {r.text}")
            assert r.status_code == 200
            wait_for("a failed delivery", lambda: get("/api/v1/deliveries").json()["items"], timeout=30)
            for path in (
                "/", "/healthz", "/readyz", "/metrics", "/api/v1/openapi.json", "/api/v1/monitors",
                "/api/v1/incidents", "/api/v1/deliveries", "/api/v1/resources", "/api/v1/status/shop",
                "/status/shop", "/status/shop/feed.atom", "/api/v1/resources/secrets", "/api/v1/nope",
            ):  # fmt: skip
                get(path)
            for kind in ("monitors", "notificationproviders", "notificationpolicies", "statuspages"):
                get(f"/api/v1/resources/{kind}")
            for name in ("with-secret", "with-literals", "unreachable", "job"):
                get(f"/api/v1/monitors/shop/{name}")
                get(f"/api/v1/monitors/shop/{name}/heartbeats")
                get(f"/api/v1/uptime/shop/{name}")
                for badge in ("status", "uptime", "latency", "cert"):
                    get(f"/badge/shop/{name}/{badge}.svg")
            time.sleep(1.5)  # a few more checks, transitions and delivery attempts in the log
        finally:
            proc.terminate()
            proc.wait(15)
    responses = "\n".join(seen)
    lines = log.read_text(errors="replace")
    assert "with-literals" in responses and "manifest warning" in lines  # the session did happen
    for leak in LEAKS:
        where = [
            r[:200] + " ... " + r[max(0, r.find(leak) - 300) : r.find(leak) + 50] for r in seen if leak in r
        ]
        assert not where, f"{leak} in a response: {where}"
        assert leak not in lines, f"{leak} in the log"
