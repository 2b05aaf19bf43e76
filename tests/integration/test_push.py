"""Push monitors end to end: the token, Uptime Kuma's query API, healthchecks-style suffixes,
the deadline, unknown tokens and the rate limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.config import load_settings
from app.roles import Embedded
from tests.access import READER, write_reader
from tests.integration.test_embedded import heartbeats, monitors, wait_for

PUSH = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: {name}, namespace: shop}}
spec:
  type: push
  interval: {interval}
  push: {push}
"""
SECRET = """\
apiVersion: v1
kind: Secret
metadata: {name: backup-push, namespace: shop}
stringData: {token: s3cret-backup-token}
"""


@pytest.fixture
def system(tmp_path: Path) -> Iterator[tuple[Embedded, Path]]:
    folder = tmp_path / "m"
    folder.mkdir()
    write_reader(folder)
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'kk.db'}",
        manifests=str(folder),
        listen="127.0.0.1:0",
        worker_threads=2,
    )
    sys_ = Embedded(settings)
    sys_.controller.poll_interval = 0.2  # type: ignore[union-attr]
    sys_.start()
    try:
        yield sys_, folder
    finally:
        sys_.stop()


def token_of(sys_: Embedded, name: str) -> str:
    rec = wait_for("the push token", lambda: sys_.parts.store.resources.get("Monitor", "shop", name))
    return (
        str(
            wait_for(
                "the push token",
                lambda: sys_.parts.store.resources.get("Monitor", "shop", name).status.get("pushToken"),
                timeout=5,
            )
        )
        if rec
        else ""
    )


def test_push_api_compatible_with_uptime_kuma_and_healthchecks(system: tuple[Embedded, Path]) -> None:
    sys_, folder = system
    (folder / "job.yaml").write_text(PUSH.format(name="nightly", interval="1m", push="{}"))
    token = token_of(sys_, "nightly")
    base = sys_.url + f"api/push/{token}"

    r = requests.get(base, params={"status": "up", "msg": "backup ok", "ping": "12.5"}, timeout=5)
    assert r.status_code == 200 and r.json() == {"ok": True, "state": "UP"}
    hb = heartbeats(sys_, "nightly")[0]
    assert hb["state"] == "UP" and hb["reason"] == "backup ok" and hb["latencyMs"] == 12.5

    assert requests.post(base + "/start", timeout=5).json() == {"ok": True, "started": True}
    time.sleep(0.3)
    assert requests.post(base + "/0", timeout=5).json()["state"] == "UP"
    hb = heartbeats(sys_, "nightly")[0]
    assert hb["reason"] == "exit code 0" and 250 <= hb["latencyMs"] < 5000  # run time from /start

    r = requests.post(base + "/3", timeout=5)
    assert r.json()["state"] == "DOWN"
    assert heartbeats(sys_, "nightly")[0]["reason"] == "exit code 3"
    assert requests.get(base, params={"status": "up"}, timeout=5).json()["state"] == "UP"
    assert requests.get(base + "/fail", params={"msg": "disk full"}, timeout=5).json()["state"] == "DOWN"
    assert monitors(sys_)["nightly"]["reason"] == "disk full"

    bad = requests.get(base, params={"status": "maybe"}, timeout=5)
    assert bad.status_code == 400 and "status must be up or down" in bad.json()["error"]["description"]


def test_unknown_token_is_404_and_stores_nothing(system: tuple[Embedded, Path]) -> None:
    sys_, folder = system
    (folder / "job.yaml").write_text(PUSH.format(name="nightly", interval="1m", push="{}"))
    token_of(sys_, "nightly")
    before = sys_.parts.store.checks.count_heartbeats()
    r = requests.get(sys_.url + "api/push/not-a-token", params={"status": "up"}, timeout=5)
    assert r.status_code == 404 and r.json()["error"]["description"] == "unknown push token"
    assert sys_.parts.store.checks.count_heartbeats() == before


def test_token_from_a_secret_and_the_rate_limit(system: tuple[Embedded, Path]) -> None:
    sys_, folder = system
    (folder / "secret.yaml").write_text(SECRET)
    (folder / "job.yaml").write_text(
        PUSH.format(name="backup", interval="1m", push="{tokenSecretRef: {name: backup-push, key: token}}")
    )
    wait_for("the monitor", lambda: "backup" in monitors(sys_))
    rec = sys_.parts.store.resources.get("Monitor", "shop", "backup")
    assert rec is not None and "pushToken" not in rec.status  # the Secret's token, never copied into status
    url = sys_.url + "api/push/s3cret-backup-token"
    codes = [requests.get(url, timeout=5).status_code for _ in range(40)]
    assert codes[0] == 200 and 429 in codes  # a burst is cut off
    detail = requests.get(sys_.url + "api/v1/monitors/shop/backup", timeout=5, headers=READER)
    assert detail.status_code == 200 and "s3cret-backup-token" not in detail.text


def test_down_when_no_push_arrives_in_interval_plus_grace(system: tuple[Embedded, Path]) -> None:
    sys_, folder = system
    (folder / "job.yaml").write_text(PUSH.format(name="cron", interval="1s", push="{gracePeriod: 1s}"))
    token = token_of(sys_, "cron")
    requests.get(sys_.url + f"api/push/{token}", timeout=5)
    assert monitors(sys_)["cron"]["state"] == "UP"
    wait_for("DOWN without pushes", lambda: monitors(sys_)["cron"]["state"] == "DOWN", timeout=10)
    m = monitors(sys_)["cron"]
    assert m["failure"] == "no_push" and "no push received in 2s" in m["reason"]
    requests.get(sys_.url + f"api/push/{token}", timeout=5)
    assert monitors(sys_)["cron"]["state"] == "UP"
