"""The whole pipeline in one process, from a manifest folder to stored results.

Runs twice: SQLite with the in-memory broker (the embedded default) and PostgreSQL with
Redis. Targets are real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from app.config import load_settings
from app.roles import Embedded
from tests.access import READER, write_reader
from tests.conftest import REDIS_URL
from tests.targets import http_target

MONITOR = """\
apiVersion: kubekuma.io/v1alpha1
kind: Monitor
metadata: {{name: {name}, namespace: shop, labels: {{team: payments}}}}
spec:
  type: http
  interval: {interval}
  timeout: 2s
  http: {{url: "{url}"}}
"""


def wait_for(what: str, cond: Callable[[], Any], timeout: float = 15.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


@pytest.fixture(params=["sqlite+memory", "postgres+redis"])
def system(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Embedded, Path]]:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    write_reader(manifests)  # the tests read the API with a key, as a script would
    if request.param == "sqlite+memory":
        env = {"database_url": f"sqlite:///{tmp_path / 'kk.db'}"}
    else:
        ns = request.getfixturevalue("redis_ns")
        env = {
            "database_url": request.getfixturevalue("pg_url"),
            "redis_url": REDIS_URL,
            "redis_namespace": ns,
        }
    settings = load_settings(
        manifests=str(manifests), listen="127.0.0.1:0", worker_threads=4, check_pool_threads=3, **env
    )
    sys_ = Embedded(settings)
    sys_.controller.poll_interval = 0.2  # type: ignore[union-attr]
    sys_.start()
    try:
        yield sys_, manifests
    finally:
        sys_.stop()


def monitors(sys_: Embedded) -> dict[str, dict[str, Any]]:
    body = requests.get(sys_.url + "api/v1/monitors", timeout=5, headers=READER).json()
    return {m["name"]: m for m in body.get("items", [])}  # none until the reader's key is loaded


def heartbeats(sys_: Embedded, name: str, limit: int = 100) -> list[dict[str, Any]]:
    r = requests.get(
        sys_.url + f"api/v1/monitors/shop/{name}/heartbeats",
        params={"limit": limit},
        timeout=5,
        headers=READER,
    )
    return r.json()["items"] if r.status_code == 200 else []


def test_manifest_to_results_and_back(system: tuple[Embedded, Path]) -> None:
    sys_, folder = system
    with http_target() as target:
        (folder / "web.yaml").write_text(
            MONITOR.format(name="web", interval="1s", url=target.url + "/health")
        )
        wait_for("web UP", lambda: monitors(sys_).get("web", {}).get("state") == "UP")
        wait_for("3 heartbeats", lambda: len(heartbeats(sys_, "web")) >= 3)
        m = monitors(sys_)["web"]
        assert m["type"] == "http" and m["target"] == target.url + "/health"
        assert m["labels"] == {"team": "payments"}
        assert {c["type"]: c["status"] for c in m["conditions"]} == {
            "Valid": "True",
            "Reconciled": "True",
            "Ready": "True",
        }

        # The target fails: DOWN with a reason a person can act on, and an incident opens.
        target.status = 500
        wait_for("web DOWN", lambda: monitors(sys_).get("web", {}).get("state") == "DOWN")
        assert "500" in monitors(sys_)["web"]["reason"]
        detail = wait_for(
            "an open incident",
            lambda: requests.get(sys_.url + "api/v1/monitors/shop/web", timeout=5, headers=READER).json()[
                "openIncident"
            ],
        )
        assert detail["open"] is True and "500" in detail["firstReason"]

        # Recovery closes it.
        target.status = 200
        wait_for("web UP again", lambda: monitors(sys_).get("web", {}).get("state") == "UP")
        wait_for("the incident to close", lambda: sys_.parts.store.incidents.open_for(m["uid"]) is None)
        closed = sys_.parts.store.incidents.list(m["uid"])
        assert len(closed) == 1 and closed[0].closed_at is not None

        # Editing the manifest changes what is checked within 5 s.
        (folder / "web.yaml").write_text(
            MONITOR.format(name="web", interval="1s", url=target.url + "/missing")
        )
        wait_for(
            "the edit to apply",
            lambda: any("404" in h["reason"] for h in heartbeats(sys_, "web", 5)),
            timeout=5.5,
        )

        # A broken manifest beside it gets Valid=False naming the field; the others keep running.
        (folder / "broken.yaml").write_text(MONITOR.format(name="broken", interval="soon", url=target.url))

        def valid_condition() -> dict[str, Any] | None:
            rec = sys_.parts.store.resources.get("Monitor", "shop", "broken")
            conds = rec.status.get("conditions", []) if rec else []
            return next((c for c in conds if c["type"] == "Valid"), None)

        valid = wait_for("the broken one's Valid condition", valid_condition)
        assert valid["status"] == "False" and valid["reason"] == "InvalidSpec"
        assert "spec.interval" in valid["message"] and "not a duration" in valid["message"]
        before = len(heartbeats(sys_, "web"))
        wait_for("web still checked", lambda: len(heartbeats(sys_, "web")) >= before + 2)

        # Deleting the manifest stops its checks.
        (folder / "web.yaml").unlink()
        wait_for("web gone from the API", lambda: "web" not in monitors(sys_))
        hits = target.hits
        time.sleep(2.5)
        assert target.hits <= hits + 1  # at most one check already in flight


def test_pending_then_down_with_retries(system: tuple[Embedded, Path]) -> None:
    sys_, folder = system
    text = MONITOR.format(name="flaky", interval="4s", url="http://127.0.0.1:9/").replace(
        "timeout: 2s", "timeout: 2s\n  retries: 2\n  retryInterval: 1s"
    )
    (folder / "flaky.yaml").write_text(text)
    # The first check comes at the monitor's phase within 4 s; retries then follow every 1 s.
    wait_for("DOWN after retries", lambda: monitors(sys_).get("flaky", {}).get("state") == "DOWN", timeout=20)
    states = [h["state"] for h in reversed(heartbeats(sys_, "flaky"))]
    assert states[:3] == ["PENDING", "PENDING", "DOWN"]
    assert "refused" in monitors(sys_)["flaky"]["reason"]


def test_dashboard_and_readiness(system: tuple[Embedded, Path]) -> None:
    sys_, folder = system
    with http_target() as target:
        (folder / "web.yaml").write_text(MONITOR.format(name="web", interval="1s", url=target.url))
        wait_for("web UP", lambda: monitors(sys_).get("web", {}).get("state") == "UP")
        page = requests.get(sys_.url, timeout=5, headers=READER)
        assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
        assert "1 up" in page.text  # the overview counts; the monitor list names every monitor
        listing = requests.get(sys_.url + "monitors", timeout=5, headers=READER)
        assert listing.status_code == 200 and "web" in listing.text
        ready = requests.get(sys_.url + "readyz", timeout=5).json()
        assert ready == {"status": "ok", "checks": {"database": True, "broker": True}}


def test_a_batch_message_runs_on_the_worker_with_its_check_pool(system: tuple[Embedded, Path]) -> None:
    """A check_batch message, sent as the scheduler sends one, is consumed by the process's own
    worker: every check recorded, the marks handed back, and no more check threads than the pool."""
    sys_, folder = system
    names = [f"b{i}" for i in range(6)]
    with http_target() as target:
        for n in names:
            (folder / f"{n}.yaml").write_text(MONITOR.format(name=n, interval="1h", url=target.url + f"/{n}"))
        wait_for("the first checks", lambda: all(len(heartbeats(sys_, n)) == 1 for n in names), timeout=20)
        uids = {n: monitors(sys_)[n]["uid"] for n in names}
        guard = sys_.parts.guard
        items = []
        for n in names:
            token = wait_for(f"{n}'s mark free", lambda n=n: guard.acquire(uids[n], 30))
            items.append((uids[n], 1, time.time(), token))
        sys_.actors.enqueue_batch(items, timeout=2.0)

        wait_for("a second heartbeat each", lambda: all(len(heartbeats(sys_, n)) == 2 for n in names))
    assert all(monitors(sys_)[n]["state"] == "UP" for n in names)
    assert wait_for("every mark handed back", lambda: all(guard.acquire(uids[n], 30) for n in names))
    pool = sys_.actors.runtime.pool
    assert 0 < pool.threads() <= sys_.settings.check_pool_threads
